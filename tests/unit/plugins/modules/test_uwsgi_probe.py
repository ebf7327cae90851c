from __future__ import annotations

import json
import os
import pwd

import pytest
from ansible_collections.pyops.uwsgi.plugins.modules import uwsgi_probe
from ansible_collections.pyops.uwsgi.tests.unit.plugins.conftest import FakePeer
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
    # The error's words, then the body's first words when there was an answer.
    assert result["error_message"] in result["msg"]


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
    assert result["msg"].endswith('; body "it broke"')


def test_500_without_failing(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, path="/fail", fail_on_error=False)
    assert_ok(result)
    assert (result["status"], result["error"]) == (500, "app_error_5xx")


def test_expect_status(run, uwsgi_server):
    result = run(socket=uwsgi_server.unix_socket, expect_status=[201, 204])
    assert result["failed"] is True
    assert result["status"] == 200
    assert result["error"] is None
    assert result["msg"].startswith('the app answered 200 OK, expected 201 or 204; body "{')
    assert result["attempts"] == 1
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
        ({"wait": -1}, "wait must be 0 seconds (one try) or more"),
        ({"wait": 5, "interval": 0}, "interval must be more than 0 seconds"),
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


def http_answer(status: str, body: bytes = b"") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class ScriptedPeer(FakePeer):
    """A FakePeer that answers each request with the next of REPLIES, the last one over again."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies = replies
        super().__init__(replies[0])

    def _reply(self) -> bytes:
        return self.replies[min(len(self.requests), len(self.replies)) - 1]


@pytest.fixture
def scripted_peer():
    peers = []

    def start(*replies: bytes) -> ScriptedPeer:
        peers.append(ScriptedPeer(list(replies)))
        return peers[-1]

    yield start
    for peer in peers:
        peer.close()


WARMING_UP = http_answer("503 Service Unavailable", b"warming\n up")
READY = http_answer("200 OK", b"ready")


def test_wait_accepted_at_once(run, scripted_peer):
    peer = scripted_peer(READY)
    result = run(socket=peer.address, expect_status=[200], wait=5, interval=0.05)
    assert_ok(result)
    assert (result["status"], result["body"], result["attempts"]) == (200, "ready", 1)
    assert len(peer.requests) == 1
    assert result["waited"] < 1


def test_wait_accepted_after_some_tries(run, scripted_peer):
    peer = scripted_peer(WARMING_UP, WARMING_UP, READY)
    result = run(socket=peer.address, expect_status=[200, 204], wait=5, interval=0.05)
    assert_ok(result)
    assert (result["status"], result["attempts"], len(peer.requests)) == (200, 3, 3)
    assert 0.1 <= result["waited"] < 2


def test_wait_without_expect_status_ends_on_an_answer_without_error(run, scripted_peer):
    # A 5xx is an error: the wait goes on past it.
    peer = scripted_peer(WARMING_UP, http_answer("404 Not Found"))
    result = run(socket=peer.address, wait=5, interval=0.05)
    assert_ok(result)
    assert (result["status"], result["error"], result["attempts"]) == (404, None, 2)


def test_wait_runs_out_quoting_the_last_status_and_body(run, scripted_peer):
    peer = scripted_peer(http_answer("502 Bad Gateway"), WARMING_UP)
    result = run(socket=peer.address, expect_status=[200], wait=0.3, interval=0.1)
    assert result["rc"] == 1 and result["failed"] is True, result
    assert result["attempts"] == len(peer.requests) >= 3
    assert (result["status"], result["body"]) == (503, "warming\n up")
    assert result["msg"].startswith(f"{result['attempts']} tries in 0.3 s (wait 0.3 s), none")
    assert result["msg"].endswith(
        'the last: the app answered 503 Service Unavailable, expected 200; body "warming up"'
    )


def test_wait_runs_out_quoting_the_connection_error(run, unused_tcp_address):
    result = run(socket=unused_tcp_address, expect_status=[200], wait=0.3, interval=0.1)
    assert_failed_with(result, "refused")
    assert result["attempts"] >= 3
    assert result["msg"] == (
        f"{result['attempts']} tries in {result['waited']:.1f} s (wait 0.3 s), none accepted;"
        f" the last: {result['error_message']}"
    )
    assert f"{unused_tcp_address}: Connection refused" in result["msg"]


def test_wait_that_runs_out_without_failing(run, unused_tcp_address):
    # No answer and fail_on_error false: the last try is judged as one probe would be.
    result = run(socket=unused_tcp_address, wait=0.2, interval=0.1, fail_on_error=False)
    assert_ok(result)
    assert result["error"] == "refused" and result["attempts"] >= 2
