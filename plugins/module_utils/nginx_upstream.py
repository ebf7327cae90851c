# Copyright: pyops.uwsgi contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An app host taken out of nginx's upstream groups and put back: which lines of a site change.

Private to pyops.uwsgi: it may change in any release. Standard library only: it is shipped to the
managed host inside modules.

The nginx role writes each server of an upstream group on a line of its own
(``server 10.0.1.21:3031 max_fails=1 fail_timeout=10s;``). Draining an app host adds nginx's
``down`` parameter to each of its servers: nginx sends no new request there, and the requests it
passed before finish in the workers that held them (a reload lets old workers finish). Restoring
removes ``down`` again. The site as the role renders it never has ``down``, so the next converge
of the fronts writes the site as configured, undoing a drain a failed run left behind.
"""

from __future__ import annotations

import ipaddress
import os
import re
import typing as t

# "upstream NAME {" opens a group; its "}" on a line of its own closes it (the role writes both).
_UPSTREAM_OPEN = re.compile(r"^\s*upstream\s+(?P<name>\S+)\s*\{\s*(?:#.*)?$")
_BLOCK_CLOSE = re.compile(r"^\s*\}\s*(?:#.*)?$")
# "server ADDRESS[:PORT] [PARAMETER...];" with an optional comment after it.
_SERVER = re.compile(
    r"^(?P<indent>\s*)server\s+(?P<address>\S+?)(?P<params>(?:\s+[^;#\s]+)*)\s*;(?P<rest>\s*(?:#.*)?)$"
)
STATES = ("down", "up")


class Change(t.NamedTuple):
    """One server line changed: its upstream group, its address, the line before and after."""

    upstream: str
    server: str
    before: str
    after: str


def host_of(server: str) -> str:
    """The host part of an upstream server: 10.0.1.21 of 10.0.1.21:3031, ::1 of [::1]:3031."""
    if server.startswith("["):
        return server[1:].partition("]")[0]
    if server.count(":") == 1:
        return server.partition(":")[0]
    return server


def _normal(address: str) -> str:
    """An address as compared: an IP in its canonical form, a name in lower case."""
    try:
        return str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        return address.lower().rstrip(".")


def matches(server: str, addresses: t.Iterable[str]) -> bool:
    """Whether the upstream SERVER (host[:port]) is at one of ADDRESSES."""
    wanted = {_normal(a) for a in addresses if a}
    return _normal(host_of(server)) in wanted


def _marked(params: str, state: str) -> str:
    """The server's parameters with ``down`` added (STATE down) or removed (STATE up)."""
    words = [w for w in params.split() if w != "down"]
    if state == "down":
        words.append("down")
    return "".join(" " + w for w in words)


def mark(text: str, addresses: t.Iterable[str], state: str) -> tuple[str, list[Change]]:
    """TEXT with every upstream server at one of ADDRESSES marked STATE, and the lines changed."""
    if state not in STATES:
        raise ValueError(f"state must be one of {', '.join(STATES)}; got {state!r}")
    addresses = list(addresses)
    lines = text.splitlines(keepends=True)
    changes: list[Change] = []
    upstream = None
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        opened = _UPSTREAM_OPEN.match(body)
        if opened:
            upstream = opened.group("name")
            continue
        if upstream is not None and _BLOCK_CLOSE.match(body):
            upstream = None
            continue
        server = _SERVER.match(body) if upstream is not None else None
        if not server or not matches(server.group("address"), addresses):
            continue
        after = (
            f"{server.group('indent')}server {server.group('address')}"
            f"{_marked(server.group('params'), state)};{server.group('rest')}"
        )
        if after != body:
            lines[number] = after + line[len(body) :]
            changes.append(Change(upstream, server.group("address"), body, after))
    return "".join(lines), changes


def servers(text: str) -> dict[str, list[tuple[str, bool]]]:
    """Each upstream group of TEXT: its servers, each with whether it is marked down."""
    groups: dict[str, list[tuple[str, bool]]] = {}
    upstream = None
    for line in text.splitlines():
        opened = _UPSTREAM_OPEN.match(line)
        if opened:
            upstream = opened.group("name")
            groups.setdefault(upstream, [])
            continue
        if upstream is not None and _BLOCK_CLOSE.match(line):
            upstream = None
            continue
        server = _SERVER.match(line) if upstream is not None else None
        if server:
            groups[upstream].append(
                (server.group("address"), "down" in server.group("params").split())
            )
    return groups


def at(text: str, addresses: t.Iterable[str]) -> list[str]:
    """The upstream servers of TEXT at one of ADDRESSES (marked down or not)."""
    wanted = list(addresses)
    return [
        server
        for group in servers(text).values()
        for server, _down in group
        if matches(server, wanted)
    ]


def errors(site: str, text: str, changes: list[Change]) -> list[str]:
    """Why TEXT (a site after a drain) must not be loaded: an upstream group it changed that has no
    server left to take requests (every request would get nginx's 502)."""
    changed = {c.upstream for c in changes}
    return [
        f"Site {site}: taking {', '.join(c.server for c in changes if c.upstream == name)} out"
        f" would leave upstream {name} no server to pass requests to (all are marked down)."
        " Put the other app hosts back first (a converge of pyops.uwsgi.fleet writes the sites as"
        " configured), or drain fewer hosts at once (pyops_uwsgi_serial)."
        for name, group in servers(text).items()
        if name in changed and group and all(down for _server, down in group)
    ]


# The title nginx gives a worker of an older configuration that finishes its requests and exits.
OLD_WORKER_TITLE = "nginx: worker process is shutting down"


def old_workers(proc: str = "/proc") -> list[int]:
    """The pids of nginx workers still finishing requests after a reload, read from PROC."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as handle:
                title = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            # Gone between the listing and the read: it exited.
            continue
        if title.startswith(OLD_WORKER_TITLE):
            found.append(int(entry))
    return sorted(found)
