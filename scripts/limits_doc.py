"""Render docs/limits.md from the table in plugins/module_utils/limits.py.

    python3 scripts/limits_doc.py > docs/limits.md

A unit test keeps the page equal to this rendering, and others hold the layers to agree.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _limits():
    """module_utils/limits.py, through the collection's name as Ansible imports it."""
    try:
        from ansible_collections.pyops.uwsgi.plugins.module_utils import limits  # noqa: PLC0415
    except ImportError:
        # A checkout outside a collections path: link it into one for this run.
        place = Path(tempfile.mkdtemp()) / "ansible_collections" / "pyops"
        place.mkdir(parents=True)
        (place / "uwsgi").symlink_to(ROOT)
        sys.path.insert(0, str(place.parents[1]))
        from ansible_collections.pyops.uwsgi.plugins.module_utils import limits  # noqa: PLC0415
    return limits


HEADER = """# Limits along a request's path

A request goes from the client to nginx, from nginx to uWSGI in one uwsgi packet, and from uWSGI
to the app; the answer comes back the same way. Each layer has its own limit for the same thing,
and where two disagree the one behind gives up first: the client gets 502 for headers nginx
accepted, a download cut short with status 200, a burst refused while nginx would have waited.
So the collection decides every limit on the path in one place
(`plugins/module_utils/limits.py`) from the few settings an operator tunes, and unit tests hold
the layers to agree: no layer gives up before the one in front of it, and what one layer accepts
the next can carry. A setting of `app_uwsgi_options` that would break that is refused, naming the
limit.

The values below are the roles' defaults. Scenario `default` sends each shape of traffic through
nginx ([production.md](production.md#traffic-shapes)).

Regenerate this page with `python3 scripts/limits_doc.py > docs/limits.md`.

| limit | between | where (nginx directive, uWSGI option) | setting | default | past it |
| --- | --- | --- | --- | --- | --- |
"""

FOOTER = """
## How they agree

- **Request headers**: every request nginx accepts fits one uwsgi packet (the nginx role refuses
  header buffers whose requests could need more than {packet} bytes), and uWSGI takes every
  variable a full packet can hold (`max-vars` {max_vars}: it keeps two slots per variable, and the
  smallest variable a header makes is {smallest} bytes). uWSGI's default of 64 dropped a request
  with 113 short headers ("max vec size reached", 502).
- **Response headers**: uWSGI's `response-headers-limit` equals nginx's `uwsgi_buffer_size`, so
  what uWSGI sends nginx can read; nginx's default of one memory page (4 KB) gave 502 for a login
  that set a 3.8 KB cookie and a `Link` header.
- **Bursts**: nginx passes at most `app_listen` requests to the app at once and the socket's
  queue holds as many, so the queue never overflows (a full queue refuses the connection, which
  nginx answers with 502); past it nginx answers 503 with `Retry-After` itself, and the app's own
  503s pass unchanged. The queue is at most the kernel's `net.core.somaxconn`. Requests from
  front hosts on `app_tcp_socket` are not counted by this host's nginx: there the kernel's queue
  holds them, and a full one delays the connection rather than refusing it.
- **Timeouts**: uWSGI ends a request at `harakiri`, before nginx stops waiting
  (`uwsgi_read_timeout`, which also counts the time the request waits in the queue); uWSGI waits
  to write longer (`socket-timeout`, `send_timeout` + {margin} s) than nginx lets a client pause
  (`send_timeout`), so a response streamed unbuffered (`X-Accel-Buffering: no`) is never cut
  while nginx still waits. uWSGI's default of 4 s cut a 32 MB download at 4.7 MB with status 200.
- **Bodies**: nginx reads a request body whole before it passes the request (a chunked one too,
  which then reaches the app with its `CONTENT_LENGTH` and without `Transfer-Encoding`, which
  would make Werkzeug read nothing); uWSGI reads it whole before the app runs. A `limit-post`
  below the site's body size is refused.
"""


def render():
    """The page."""
    limits = _limits()
    lines = [
        "| "
        + " | ".join(row[key] for key in ("limit", "between", "where", "setting", "value", "past"))
        + " |"
        for row in limits.rows()
    ]
    return (
        HEADER
        + "\n".join(lines)
        + "\n"
        + FOOTER.format(
            packet=limits.UWSGI_PACKET,
            max_vars=limits.MAX_VARS,
            smallest=limits.SMALLEST_VARIABLE,
            margin=limits.SOCKET_TIMEOUT_MARGIN,
        )
    )


if __name__ == "__main__":
    sys.stdout.write(render())
