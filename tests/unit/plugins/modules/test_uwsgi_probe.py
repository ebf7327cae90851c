from __future__ import annotations

import json
import os
import pwd

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import uwsgi_probe
from ansible_collections.pyops.uwsgi.tests.unit.plugins.module_args import patch_module_args


@pytest.fixture
def run(capsys):
    """run(**options) -> the module's JSON result, with "rc" its exit code."""

    def invoke(**options):
        with patch_module_args(options), pytest.raises(SystemExit) as exited:
            uwsgi_probe.main()
        result = json.loads(capsys.readouterr().out)
        result["rc"] = exited.value.code
        return result

    return invoke


def needs_root_and(user):
    try:
        pwd.getpwnam(user)
    except KeyError:
        return pytest.mark.skip(reason=f"no user {user} here")
    return pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")


def assert_ok(result):
    assert result["rc"] == 0, result
    assert not result.get("failed")
    assert result["changed"] is False


def assert_failed_with(result, error):
    assert result["rc"] == 1, result
    assert result["failed"] is True
    assert result["changed"] is False
    assert result["error"] == error
    assert result["msg"] == result["error_message"]


def test_200_with_body(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/status?verbose=1")
    assert_ok(result)
    assert (result["status"], result["reason"]) == (200, "OK")
    assert result["error"] is None and result["error_message"] is None
    assert result["headers"]["content-type"] == "application/json"
    assert result["headers"]["x-echo"] == "one, two"
    assert ["X-Echo", "one"] in result["header_list"]
    assert ["X-Echo", "two"] in result["header_list"]
    assert result["body_size"] == len(result["body"].encode())
    assert result["body_truncated"] is False
    assert 0 < result["elapsed"] < 5
    environ = json.loads(result["body"])["environ"]
    assert environ["PATH_INFO"] == "/status"
    assert environ["QUERY_STRING"] == "verbose=1"
    assert environ["HTTP_HOST"] == "localhost"


def test_headers_and_body_reach_the_app(run, uwsgi_server):
    result = run(
        socket=uwsgi_server.tcp_address,
        method="POST",
        path="/orders",
        host="shop.example.org",
        headers={"Content-Type": "application/json", "X-Request-Id": "deploy-1"},
        body='{"sku": "é"}',
    )
    assert_ok(result)
    got = json.loads(result["body"])
    assert got["body"].encode("latin-1").decode("utf-8") == '{"sku": "é"}'
    environ = got["environ"]
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SERVER_NAME"] == environ["HTTP_HOST"] == "shop.example.org"
    assert environ["CONTENT_TYPE"] == "application/json"
    assert environ["CONTENT_LENGTH"] == str(len('{"sku": "é"}'.encode()))
    assert environ["HTTP_X_REQUEST_ID"] == "deploy-1"


def test_body_limit(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/bytes?100000", body_limit=10)
    assert_ok(result)
    assert result["body"] == "x" * 10
    assert result["body_size"] == 100000
    assert result["body_truncated"] is True


def test_500_is_app_error_5xx(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/fail")
    assert_failed_with(result, "app_error_5xx")
    assert (result["status"], result["body"]) == (500, "it broke")
    assert "500 Internal Server Error" in result["msg"]


def test_500_without_failing(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/fail", fail_on_error=False)
    assert_ok(result)
    assert (result["status"], result["error"]) == (500, "app_error_5xx")


def test_expect_status(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, expect_status=[201, 204])
    assert result["failed"] is True
    assert result["status"] == 200
    assert result["error"] is None
    assert result["msg"] == "the app answered 200 OK, expected 201 or 204"
    # A 5xx that is expected does not fail; error still names it.
    result = run(socket=uwsgi_server.unix_socket, path="/fail", expect_status=[500])
    assert_ok(result)
    assert result["error"] == "app_error_5xx"


def test_socket_missing(run, tmp_path):
    result = run(socket=str(tmp_path / "missing.sock"))
    assert_failed_with(result, "socket_missing")
    assert result["status"] is None
    assert result["headers"] == {} and result["body"] == ""
    assert "No such file or directory" in result["msg"]


def test_socket_missing_without_failing(run, tmp_path):
    result = run(socket=str(tmp_path / "missing.sock"), fail_on_error=False)
    assert_ok(result)
    assert result["error"] == "socket_missing"
    assert result["status"] is None


@needs_root_and("nobody")
def test_other_user_cannot_open_a_0600_socket(run, uwsgi_server):
    assert os.stat(uwsgi_server.private_socket).st_mode & 0o777 == 0o600
    # The very socket answers root ...
    assert_ok(run(socket=uwsgi_server.private_socket))
    # ... and refuses nobody.
    result = run(socket=uwsgi_server.private_socket, user="nobody")
    assert_failed_with(result, "permission_denied")
    assert result["msg"].startswith(f"as user nobody, {uwsgi_server.private_socket}: Permission")


@needs_root_and("nobody")
def test_other_user_can_open_a_0666_socket(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, user="nobody", path="/whoami")
    assert_ok(result)
    assert result["status"] == 200


def test_user_needs_root(run, uwsgi_server, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 12345)
    result = run(socket=uwsgi_server.unix_socket, user="root")
    assert result["failed"] is True
    assert "needs root" in result["msg"]


def test_unknown_user(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, user="no-such-user-pyops")
    assert result["failed"] is True
    assert result["msg"] == "user 'no-such-user-pyops': no such user"


def test_refused(run, unused_tcp_address):
    result = run(socket=unused_tcp_address)
    assert_failed_with(result, "refused")


def test_timeout(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/sleep?1.5", timeout=0.3)
    assert_failed_with(result, "timeout")
    assert 0.25 < result["elapsed"] < 1.4


def test_garbage_is_protocol_error(run, fake_peer):
    peer = fake_peer(b"xyz")
    result = run(socket=peer.address, timeout=3)
    assert_failed_with(result, "protocol_error")
    assert "b'xyz'" in result["msg"]


def test_app_that_raises_is_protocol_error(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/raise")
    assert_failed_with(result, "protocol_error")
    assert "raised before start_response" in result["msg"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"path": "health"}, "must start with /"),
        ({"headers": {"X-Big": "x" * 70000}}, "16-bit"),
        ({"headers": {"Content-Length": "3"}}, "set from the body"),
        ({"timeout": 0}, "timeout must be"),
        ({"body_limit": -1}, "body_limit must be"),
        ({"socket": "127.0.0.1:99999"}, "port out of range"),
    ],
)
def test_bad_options_fail_before_connecting(run, tmp_path, options, message):
    result = run(**{"socket": str(tmp_path / "never-opened.sock"), **options})
    assert result["failed"] is True
    assert message in result["msg"]
    assert "error" not in result


@pytest.mark.parametrize(
    ("options", "fails"),
    [
        ({"path": "/"}, False),
        ({"path": "/fail"}, True),
        ({"socket": "/nonexistent/uwsgi.sock"}, True),
    ],
)
def test_check_mode_does_the_same(run, uwsgi_server, options, fails):
    options = {"socket": uwsgi_server.unix_socket, **options}
    normal = run(**options)
    checked = run(**options, _ansible_check_mode=True)
    for result in (normal, checked):
        assert result["changed"] is False
        assert bool(result.get("failed")) is fails
    keys = ("status", "reason", "error", "headers", "body_size")
    assert {key: checked[key] for key in keys} == {key: normal[key] for key in keys}
