"""Real peers for the uwsgi protocol tests: a uWSGI process and a peer that answers garbage.

ansible-test runs each test in a fork of its own, where a session fixture would start a uWSGI per
test and never stop it (the fork exits before teardown). So the uWSGI is started by the process
that forks, lazily, before the first test that asks for ``uwsgi_server``, and stopped at the end
of the session.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from ansible_collections.pyops.uwsgi.plugins.module_utils import uwsgi_protocol

# The app echoes the environ and body it got as JSON; a few paths misbehave on purpose.
APP = """\
import json
import time


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/sleep":
        time.sleep(float(environ["QUERY_STRING"] or "1"))
    elif path == "/fail":
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")])
        return [b"it broke"]
    elif path == "/raise":
        raise RuntimeError("the app raised before start_response")
    elif path == "/bytes":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * int(environ["QUERY_STRING"])]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    echo = {
        "environ": {key: value for key, value in environ.items() if isinstance(value, str)},
        "body": body.decode("latin-1"),
    }
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("X-Echo", "one"),
            ("X-Echo", "two"),
        ],
    )
    return [json.dumps(echo).encode("utf-8")]
"""

START_TIMEOUT = 15
STOP_TIMEOUT = 10


def find_uwsgi() -> str | None:
    """A uwsgi with Python built in: the one next to this Python (pip's), else the one on PATH.

    Distribution packages build uwsgi without Python (it comes as a plugin, for the system's
    Python rather than this one); such a binary is passed over.
    """
    candidates = [Path(sys.executable).parent / "uwsgi", shutil.which("uwsgi")]
    for candidate in candidates:
        if candidate is None or not os.access(candidate, os.X_OK):
            continue
        try:
            usage = subprocess.run(
                [str(candidate), "--help"], capture_output=True, text=True, timeout=10, check=False
            ).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        if "--wsgi-file" in usage:
            return str(candidate)
    return None


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class UwsgiServer:
    """One uWSGI master with the echo app on three sockets.

    ``unix_socket`` is mode 0666 in a 0755 directory, so any user may open it;
    ``private_socket`` is mode 0600 (owned by whoever runs the tests); ``tcp_address`` is
    ``127.0.0.1:PORT``.
    """

    def __init__(self, binary: str) -> None:
        self.binary = binary
        # Short and not under pytest's 0700 tmp tree: unix socket paths are limited to 107 bytes,
        # and the permission tests need a directory other users may traverse.
        self.directory = Path(tempfile.mkdtemp(prefix="pyops-uwsgi-"))
        self.directory.chmod(0o755)
        self.unix_socket = str(self.directory / "app.sock")
        self.private_socket = str(self.directory / "private.sock")
        self.tcp_address = f"127.0.0.1:{free_tcp_port()}"
        self.log = self.directory / "uwsgi.log"
        self.owner_pid = os.getpid()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        app = self.directory / "app.py"
        app.write_text(APP)
        app.chmod(0o644)
        command = [
            self.binary,
            "--strict",
            "--master",
            # Spare workers: a timeout test leaves one busy with a sleeping request.
            "--processes", "4",
            "--socket", self.unix_socket,
            "--socket", self.private_socket,
            "--socket", self.tcp_address,
            "--chmod-socket=666",
            "--chdir", str(self.directory),
            "--wsgi-file", str(app),
            "--need-app",
            "--die-on-term",
            "--vacuum",
            "--logto", str(self.log),
        ]  # fmt: skip
        # What uWSGI prints before it opens --logto (a refused option) goes to the log too.
        with self.log.open("ab") as early_log:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=early_log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"uwsgi exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                if uwsgi_protocol.request(self.unix_socket, path="/ready", timeout=2).status == 200:
                    break
            except uwsgi_protocol.UwsgiError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uwsgi did not answer in {START_TIMEOUT}s:\n{self.log_tail()}")
            time.sleep(0.05)
        os.chmod(self.private_socket, 0o600)

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:
            return
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            # SIGINT stops uWSGI 2.0; SIGTERM would only reload it without --die-on-term.
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class _Slot:
    """The session's uWSGI: started once by the first test that needs it."""

    server: UwsgiServer | None = None
    error: str | None = None  # "skip" when there is no usable uwsgi binary

    @classmethod
    def ensure(cls) -> None:
        if cls.server is not None or cls.error is not None:
            return
        binary = find_uwsgi()
        if binary is None:
            cls.error = "skip"
            return
        server = UwsgiServer(binary)
        try:
            server.start()
        except (OSError, RuntimeError) as exc:
            cls.error = str(exc)
            return
        cls.server = server
        atexit.register(server.stop)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    # Runs in the process that ansible-test's ansible_forked plugin forks each test from.
    if "uwsgi_server" in getattr(item, "fixturenames", ()):
        _Slot.ensure()
    yield


def pytest_sessionfinish(session, exitstatus):
    if _Slot.server is not None:
        _Slot.server.stop()


@pytest.fixture
def uwsgi_server() -> UwsgiServer:
    """A running uWSGI serving the echo app; skips when no uwsgi binary is installed."""
    _Slot.ensure()  # started already, unless a runner bypassed pytest_runtest_protocol
    if _Slot.error == "skip":
        pytest.skip(
            "no uwsgi with Python built in next to this Python or on PATH"
            " (pip install -r tests/unit/requirements.txt)"
        )
    if _Slot.server is None:
        pytest.fail(f"cannot start uwsgi: {_Slot.error}")
    return _Slot.server


class FakePeer:
    """A TCP peer that reads one uwsgi request and answers REPLY (maybe nothing), then closes."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(10)
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _reply(self) -> bytes:
        """The answer to the request just read (the last of self.requests)."""
        return self.reply

    def _serve(self) -> None:
        try:
            while True:
                connection, _address = self.listener.accept()
                with connection:
                    connection.settimeout(5)
                    self.requests.append(self._read_request(connection))
                    connection.sendall(self._reply())
                    connection.shutdown(socket.SHUT_WR)
        except OSError:
            return

    @staticmethod
    def _read_request(connection: socket.socket) -> bytes:
        # Read the whole packet before replying: closing on unread data would send a reset.
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack("<H", data[1:3])[0]:
            chunk = connection.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def fake_peer():
    """Factory: fake_peer(b"reply") starts a FakePeer and closes it after the test."""
    peers = []

    def start(reply: bytes) -> FakePeer:
        peer = FakePeer(reply)
        peers.append(peer)
        return peer

    yield start
    for peer in peers:
        peer.close()


@pytest.fixture
def unused_tcp_address():
    """A 127.0.0.1 address nothing listens on (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"
