"""Scenario default: a protected download, as Django's or Flask-Security's private media are sent.

hello serves its shared path private at the internal url /protected/ (app_shared_paths internal):
its /download/NAME decides and answers with X-Accel-Redirect, and nginx sends the file from
/var/lib/hello/shared/private; a client asking for /protected/ itself gets 404. Only the app and
nginx's group may read the directory.
"""

from __future__ import annotations

import shlex

import pytest
from pyops_verify import http

# One platform is enough: the site and the directories are the same on both.
testinfra_hosts = ["ansible://uwsgi-default-debian13"]
SITE = "hello.test"
PRIVATE = "/var/lib/hello/shared/private"
# A space in the name: the app URL-encodes it in X-Accel-Redirect, and nginx decodes it.
NAME = "report 2026.txt"
QUOTED = "report%202026.txt"
CONTENT = "for the eyes of those the app lets in"


@pytest.fixture(scope="module")
def report(host):
    """A file the app wrote into its private shared directory: its user, its umask (0027)."""
    path = f"{PRIVATE}/{NAME}"
    write = f"umask 027; printf %s {shlex.quote(CONTENT)} > {shlex.quote(path)}"
    host.check_output(f"runuser -u hello -- sh -c {shlex.quote(write)}")
    yield path
    host.check_output(f"rm -f {shlex.quote(path)}")


def headers(host, path):
    """The response headers of GET PATH on hello's site, names lowered."""
    out = host.check_output(
        f"curl -sS --max-time 10 -o /dev/null -D - -H 'Host: {SITE}' "
        f"{shlex.quote('http://127.0.0.1' + path)}"
    )
    pairs = [line.split(":", 1) for line in out.splitlines() if ":" in line]
    return {name.strip().lower(): value.strip() for name, value in pairs}


def test_the_app_authorises_and_nginx_sends_the_file(host, report):
    assert http(host, f"/download/{QUOTED}", SITE) == (200, CONTENT)
    found = headers(host, f"/download/{QUOTED}")
    # The file's type from its extension, the app's Cache-Control, the site's security headers.
    assert found["content-type"] == "text/plain"
    assert found["cache-control"] == "private"
    assert found["x-content-type-options"] == "nosniff"
    assert "x-accel-redirect" not in found


def test_the_internal_url_itself_gets_404(host, report):
    status, body = http(host, f"/protected/{QUOTED}", SITE)
    assert status == 404
    assert CONTENT not in body


def test_the_directory_is_readable_by_nginx_s_group_and_nobody_else(host, report):
    private = host.file(PRIVATE)
    assert (private.user, private.group, private.mode) == ("hello", "www-data", 0o2750)
    written = host.file(report)
    # Set-group-ID: what the app writes there is nginx's group's, readable and nothing more.
    assert (written.user, written.group, written.mode) == ("hello", "www-data", 0o640)
    read = host.run(f"runuser -u www-data -- cat {shlex.quote(report)}")
    assert (read.rc, read.stdout) == (0, CONTENT)
    assert host.run(f"runuser -u nobody -- cat {shlex.quote(report)}").rc != 0
    assert host.run(f"runuser -u nobody -- ls {PRIVATE}").rc != 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # Not a plain file name: the app refuses it.
        ("/download/.hidden", 400),
        ("/download/private%2Freport.txt", 400),
        # nginx resolves the dots before the app sees the path (/etc/passwd), which nothing serves,
        # and refuses itself a path that climbs above /.
        ("/download/..%2Fetc%2Fpasswd", 404),
        ("/download/..%2F..%2F..%2Fetc%2Fpasswd", 400),
    ],
)
def test_a_name_that_is_not_a_plain_file_name_gets_no_file(host, report, path, expected):
    status, body = http(host, path, SITE)
    assert status == expected
    assert CONTENT not in body
    assert "root:" not in body
