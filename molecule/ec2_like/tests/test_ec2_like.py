"""Scenario ec2_like: playbooks/site.yml over SSH as ubuntu with sudo, as on an EC2 Ubuntu host.

The verifier itself logs in the way the converge did (testinfra reads the same inventory), so every
check below runs through SSH and sudo too. The journal tells what reached the instance and when.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from pyops_verify import http, http_json, serving_venv

SERVER_NAME = "hello.example.org"
# sudo's log line for a command run as root by ubuntu, and the shell line Ansible's become runs:
# "echo BECOME-SUCCESS-<token> ; [ENV=value ...] /usr/bin/python3[.X]", with the module on stdin
# (pipelining), or followed by the path of a module file copied to the instance first.
SUDO_AS_ROOT = re.compile(r"^\s*ubuntu : .*; USER=root ; COMMAND=(?P<command>.*)$")
BECOME = re.compile(
    r"echo BECOME-SUCCESS-\w+ ; (?P<python>(?:\w+=\S+ )*/usr/bin/python3[.\d]*)(?P<rest>.*)"
)
ACCEPTED = re.compile(r"^Accepted (?P<method>\S+) for (?P<user>\S+) from .* ssh2: (?P<key>.*)$")


@pytest.fixture(scope="module")
def journal(host):
    """Journal entries of sshd, sudo and the app, as (microseconds, identifier, pid, message)."""
    out = host.check_output(
        "journalctl --no-pager -o json --output-fields=MESSAGE,SYSLOG_IDENTIFIER,_PID "
        "SYSLOG_IDENTIFIER=sshd SYSLOG_IDENTIFIER=sshd-session SYSLOG_IDENTIFIER=sudo "
        "SYSLOG_IDENTIFIER=uwsgi-hello"
    )
    entries = []
    for line in out.splitlines():
        entry = json.loads(line)
        message = entry.get("MESSAGE", "")
        if isinstance(message, list):  # journald gives bytes that are not UTF-8 as a list of ints
            message = bytes(message).decode(errors="replace")
        entries.append(
            (int(entry["__REALTIME_TIMESTAMP"]), entry["SYSLOG_IDENTIFIER"], entry["_PID"], message)
        )
    return sorted(entries)


def app_started(journal):
    """When the app wrote its first log line."""
    starts = [when for when, name, _pid, _text in journal if name == "uwsgi-hello"]
    assert starts, "the app never logged to the journal"
    return starts[0]


def test_page_answers_through_nginx(host):
    status, body = http(host, "/", SERVER_NAME)
    assert status == 200
    assert "Hello from pyops.uwsgi" in body


def test_app_runs_in_its_own_virtualenv(host):
    assert http_json(host, "/version", SERVER_NAME)["prefix"] == serving_venv(host, "hello")


def test_static_files_come_from_nginx(host):
    status, body = http(host, "/static/hello.txt", SERVER_NAME)
    assert status == 200
    assert "without the app" in body


def test_verifier_commands_arrive_over_ssh_as_ubuntu_through_sudo(host):
    # The processes above this command, from its shell up to PID 1, as "name user".
    chain = host.check_output(
        'p=$$; while [ "$p" -gt 1 ]; do '
        "echo \"$(cat /proc/$p/comm) $(stat -c %U /proc/$p)\"; p=$(cut -d' ' -f4 /proc/$p/stat); "
        "done"
    ).splitlines()
    assert chain[0] == "sh root", chain
    assert "sudo root" in chain, chain
    # sshd-session since OpenSSH 9.8, sshd before: the session's process that runs as the user.
    assert any(line in ("sshd-session ubuntu", "sshd ubuntu") for line in chain), chain
    assert host.check_output("printenv SUDO_USER") == "ubuntu"


def test_sshd_accepted_only_the_scenarios_key_for_ubuntu(host, journal):
    public_key = host.ansible.get_variables()["ansible_ssh_private_key_file"] + ".pub"
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-f", public_key], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    logins = [
        match.groupdict()
        for _when, name, _pid, text in journal
        if name.startswith("sshd") and (match := ACCEPTED.match(text))
    ]
    assert logins, "sshd accepted no login"
    for login in logins:
        assert (login["method"], login["user"]) == ("publickey", "ubuntu"), login
        assert login["key"].endswith(" " + fingerprint), login


def test_app_was_deployed_in_ubuntus_ssh_session_through_sudo(journal):
    started = app_started(journal)
    # sshd-session (or sshd before OpenSSH 9.8) logs the opening and the closing of each session
    # under the PID of the process that serves it.
    opened, closed = {}, {}
    for when, name, pid, text in journal:
        if name.startswith("sshd") and "session opened for user ubuntu" in text:
            opened[pid] = when
        elif name.startswith("sshd") and "session closed for user ubuntu" in text:
            closed[pid] = when
    assert any(since < started < closed.get(pid, float("inf")) for pid, since in opened.items()), (
        f"no SSH session of ubuntu was open when the app started: {opened}, {closed}"
    )
    # prepare.yml logs in without sudo, so ubuntu's sudo before the app's start is the deploy's.
    deploy = [
        match["command"]
        for when, name, _pid, text in journal
        if name == "sudo" and when < started and (match := SUDO_AS_ROOT.match(text))
    ]
    assert deploy, "no command ran as root through ubuntu's sudo before the app started"
    assert all(BECOME.search(command) for command in deploy), deploy


def test_modules_were_piped_to_python_not_copied(journal):
    started = app_started(journal)
    copied = [
        text
        for when, name, _pid, text in journal
        if name == "sudo"
        and when < started
        and (match := BECOME.search(text))
        and match["rest"].strip(" '\"")
    ]
    assert not copied, f"modules copied to the instance before they ran (no pipelining): {copied}"
