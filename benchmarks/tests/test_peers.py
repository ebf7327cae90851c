"""The peer stacks (gunicorn twice, Granian), their nginx configuration, their memory's units and
the body check, without a container: bench.py's docker calls are replaced by canned answers.

The last test runs the sample app's /stream in build/bench-app-venv (as test_inprocess.py does).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bench  # benchmarks/ is no package: found through sys.path

TOP = Path(__file__).resolve().parents[2]
HELLO = TOP / "examples" / "apps" / "hello"
APP_PYTHON = Path(
    os.environ.get("PYOPS_BENCH_APP_PYTHON", TOP / "build" / "bench-app-venv" / "bin" / "python")
)
VASSAL = "[uwsgi]\nprocesses = 4\ndisable-logging = true\nlog-4xx = true\nlog-5xx = true\n"
PEERS = ("gunicorn", "gunicorn-uwsgi", "granian")


@pytest.fixture
def targets() -> dict[str, bench.Target]:
    site = (
        "server {\n    listen 80;\n    location / {\n        uwsgi_pass unix:/run/a.sock;\n    }\n}"
    )
    return {t.key: t for t in bench.fixed_targets("<h1>hi</h1>\n", VASSAL, 3, site)}


def test_the_peers_are_fixed_targets_each_on_a_port_of_its_own(targets) -> None:
    assert [key for key in targets if key in PEERS] == list(PEERS)
    assert targets["gunicorn"].label == "gunicorn (sync workers, HTTP)"
    assert targets["gunicorn-uwsgi"].label == "gunicorn (--protocol uwsgi)"
    assert {targets[key].kind for key in PEERS} == {"gunicorn", "granian"}
    ports = [t.port for t in targets.values()]
    assert len(ports) == len(set(ports))
    assert not set(ports) & {8090, *range(bench.ABLATION_PORT, bench.ABLATION_PORT + 40)}


def test_each_peer_runs_as_many_workers_as_the_defaults_on_the_socket_nginx_passes_to(
    targets,
) -> None:
    commands = bench.peer_commands(3)
    assert [*commands] == list(PEERS)
    for key, command in commands.items():
        assert command[command.index("--workers") + 1] == "3"
        assert command[-1] == "wsgi:application"
        assert shlex.join(command) == targets[key].command
        socket = bench.peer_socket(key)
        assert socket == f"/run/pyops-bench-{key}/app.sock"  # the unit's RuntimeDirectory
        bound = command[command.index("--uds" if key == "granian" else "--bind") + 1]
        assert bound.removeprefix("unix:") == socket
        assert socket in targets[key].location + targets[key].upstream
    assert "--protocol" not in commands["gunicorn"]
    uwsgi = commands["gunicorn-uwsgi"]
    assert uwsgi[uwsgi.index("--protocol") + 1] == "uwsgi"
    granian = commands["granian"]
    assert granian[granian.index("--interface") + 1] == "wsgi"
    assert granian[granian.index("--blocking-threads") + 1] == str(bench.GRANIAN_BLOCKING_THREADS)
    # read as octal only with its leading 0 (660 would be decimal)
    assert granian[granian.index("--uds-permissions") + 1] == "0660"


def test_the_nginx_file_has_the_upstream_at_http_level_and_each_peers_location(targets) -> None:
    conf = bench.nginx_server_blocks(list(targets.values()))
    upstream = conf.index("upstream pyops_bench_granian {")
    assert upstream < conf.index("server {")
    assert bench.block_end(conf, conf.index("{", upstream)) < conf.index("server {")
    assert f"    keepalive {bench.UPSTREAM_KEEPALIVE};\n" in conf
    blocks = {}
    start = 0
    while (start := conf.find("server {", start)) >= 0:
        end = bench.block_end(conf, conf.index("{", start))
        block = conf[start : end + 1]
        blocks[int(re.search(r"listen 127\.0\.0\.1:(\d+);", block)[1])] = block
        start = end
    granian = blocks[targets["granian"].port]
    for directive in (
        "include proxy_params;",
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_pass http://pyops_bench_granian;",
    ):
        assert directive in granian
    uwsgi = blocks[targets["gunicorn-uwsgi"].port]
    assert "include uwsgi_params;" in uwsgi
    assert "uwsgi_pass unix:/run/pyops-bench-gunicorn-uwsgi/app.sock;" in uwsgi
    http = blocks[targets["gunicorn"].port]
    assert "proxy_pass http://unix:/run/pyops-bench-gunicorn/app.sock;" in http
    assert "keepalive" not in http  # sync workers close every connection


def test_what_the_page_is_told_of_each_peer(targets) -> None:
    peers = bench.peers_ran(list(targets.values()))
    assert [*peers] == list(PEERS)
    assert peers["granian"]["command"] == targets["granian"].command
    assert peers["granian"]["nginx"].startswith("upstream pyops_bench_granian {")
    assert "listen 127.0.0.1:8088;" in peers["granian"]["nginx"]
    assert peers["gunicorn"]["nginx"].startswith("server {")


def test_the_memory_of_each_peer_is_read_from_its_unit(monkeypatch, targets) -> None:
    calls = []

    def inside(*command: str, **_options: object) -> str:
        calls.append(command)
        if command[0] == "pgrep":
            return ""  # no uWSGI master found: the defaults left out
        return json.dumps({"stacks": {}, "container": {}})

    monkeypatch.setattr(bench, "inside", inside)
    bench.measure_memory(list(targets.values()), VASSAL)
    specs = calls[-1][2:]
    assert calls[-1][1].endswith("container/memory.py")
    for key in PEERS:
        assert f"{key}=pyops-bench-{key}.service:{bench.APP}" in specs
    assert f"tutorial-five=pyops-bench-five.service:{bench.APP}" in specs


def body_answer(body: bytes, status: int = 200, length: bool = False, code: int = 0) -> str:
    """What fetch_body's shell prints: curl's -w line, sha256sum's line, curl's exit status."""
    header = str(len(body)) if length else ""
    encoding = "" if length else "chunked"
    digest = hashlib.sha256(body).hexdigest()
    return f"{status}|{len(body)}|{header}|{encoding}\n{digest}  /opt/pyops-bench/body\n{code}\n"


def test_the_body_check_compares_every_app_stack_with_the_apps_bytes(monkeypatch, targets) -> None:
    monkeypatch.setattr(bench, "BODY_MIB", 1)
    whole = b"s" * 2**20
    asked = []

    def inside(*command: str, **_options: object) -> str:
        script = command[-1]
        asked.append(script)
        if "8087/stream/1?length=0" in script:  # gunicorn --protocol uwsgi: chunk marks left in
            return body_answer(b"10000\r\n" + whole[:-7])
        if "8088/stream/1?length=0" in script:  # Granian: cut short
            return body_answer(whole[:1000], code=18)
        return body_answer(whole, length="length=0" not in script)

    monkeypatch.setattr(bench, "inside", inside)
    monkeypatch.setattr(bench, "BODY_PATHS", {"without_length": "stream/1?length=0",
                                              "with_length": "stream/1"})  # fmt: skip
    check = bench.check_bodies(list(targets.values()))
    assert "ceiling" not in check["stacks"]
    assert len(asked) == 2 * (len(targets) - 1)
    assert check["expected"] == {
        "bytes": 2**20,
        "sha256": hashlib.sha256(whole).hexdigest(),
    }
    defaults = check["stacks"]["defaults"]
    assert defaults["label"] == "pyops.uwsgi defaults"
    assert defaults["without_length"]["framing"] == "chunked"
    assert defaults["with_length"]["framing"] == "Content-Length"
    assert defaults["without_length"]["intact"] and defaults["with_length"]["intact"]
    # the same length, other bytes
    marked = check["stacks"]["gunicorn-uwsgi"]["without_length"]
    assert marked["bytes"] == 2**20
    assert not marked["intact"]
    cut = check["stacks"]["granian"]["without_length"]
    assert (cut["bytes"], cut["curl_exit"], cut["intact"]) == (1000, 18, False)
    assert check["stacks"]["granian"]["with_length"]["intact"]
    assert "-H 'Host: hello.example.org' 'http://127.0.0.1:80/stream/1?length=0'" in asked[0]


def stream(path: str) -> dict:
    """The sample app's answer to path, in the app's virtualenv (Flask's test client)."""
    if not APP_PYTHON.exists():
        pytest.fail(f"{APP_PYTHON} is missing: `make bench-smoke` makes it (flask for the app)")
    script = (
        "import hashlib, json, sys; sys.path.insert(0, sys.argv[1]); import myflask\n"
        "r = myflask.application.test_client().get(sys.argv[2])\n"
        "print(json.dumps({'status': r.status_code, 'length': r.headers.get('Content-Length'),"
        " 'bytes': len(r.data), 'sha256': hashlib.sha256(r.data).hexdigest()}))"
    )
    done = subprocess.run(
        [str(APP_PYTHON), "-c", script, str(HELLO), path],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return json.loads(done.stdout)


def test_the_apps_stream_leaves_its_length_out_only_when_asked() -> None:
    expected = bench.expected_body()
    with_length, without = stream("/stream/8"), stream("/stream/8?length=0")
    assert with_length["length"] == str(expected["bytes"])
    assert without["length"] is None
    for answer in (with_length, without):
        assert answer["status"] == 200
        assert (answer["bytes"], answer["sha256"]) == (expected["bytes"], expected["sha256"])
    assert stream("/stream/1?length=1")["length"] == str(2**20)
