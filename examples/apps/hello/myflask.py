"""A minimal Flask app laid out like the tutorials: the app lives here, wsgi.py imports it."""

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import quote

from flask import Flask, abort, request

application = Flask(__name__)


@application.before_request
def allowed_host():
    # As Django's ALLOWED_HOSTS does: with PYOPS_ALLOWED_HOSTS set (names, comma-separated), a
    # request for another Host gets 400.
    allowed = os.environ.get("PYOPS_ALLOWED_HOSTS")
    if allowed and request.host.split(":")[0] not in allowed.split(","):
        application.logger.error("Invalid HTTP_HOST header: %r", request.host)
        abort(400)


@application.route("/")
def hello():
    return "<h1>Hello from pyops.uwsgi</h1>\n"


@application.route("/version")
def version():
    # Which interpreter and which virtualenv serve this app.
    return {"version": sys.version, "prefix": sys.prefix}


@application.route("/whoami")
def whoami():
    # Which host and worker process answered: tells load-balanced hosts and recycled workers apart.
    return {"host": socket.gethostname(), "pid": os.getpid()}


@application.route("/download/<path:name>")
def download(name):
    # A protected download as Django's or Flask-Security's: the app decides, nginx sends the file
    # from the shared path served at the internal url /protected/ (app_shared_paths internal).
    # A name is one plain file name; <path:> lets the others reach here to be refused.
    if name != os.path.basename(name) or name.startswith(".") or not name.isprintable():
        abort(400)
    response = application.response_class(headers={"X-Accel-Redirect": "/protected/" + quote(name)})
    # The file's type is nginx's to say (from its extension), and no shared cache keeps it.
    del response.headers["Content-Type"]
    response.headers["Cache-Control"] = "private"
    return response


@application.route("/scheme")
def scheme():
    # How the app sees the request's scheme (wsgi.url_scheme, from nginx's HTTPS variable).
    return {"scheme": request.scheme, "https": request.environ.get("HTTPS", ""), "url": request.url}


@application.route("/client")
def client():
    # The connection as the app sees it: scheme, address, and what it was told of them.
    return {
        "scheme": request.scheme,
        "remote_addr": request.remote_addr,
        "forwarded_for": request.headers.get("X-Forwarded-For"),
    }


@application.route("/sleep/<int:seconds>")
def sleep(seconds):
    # A slow request, to see harakiri end it; bounded so nobody ties up a worker for long.
    if seconds > 60:
        abort(400)
    time.sleep(seconds)
    return {"slept": seconds}


@application.route("/echo/<name>")
def echo(name):
    # What the app got: an environment variable named PYOPS_ECHO_*, as the process has it, and
    # uWSGI's own view of its options (uwsgi.opt): lets the tests compare values byte for byte.
    # Other variables stay private.
    if not name.startswith("PYOPS_ECHO_"):
        abort(404)
    try:
        import uwsgi  # noqa: PLC0415 - only there when uWSGI runs the app

        options = {key: _text(value) for key, value in uwsgi.opt.items()}
    except ImportError:
        options = {}
    env_lines = options.get("env", [])
    env_lines = env_lines if isinstance(env_lines, list) else [env_lines]
    return {
        "environ": os.environ.get(name),
        "uwsgi_env": [line.split("=", 1)[1] for line in env_lines if line.startswith(name + "=")],
        "procname_append": options.get("procname-append"),
    }


@application.route("/nap/<int:ms>")
def nap(ms):
    # A short request of known length, for bursts: how long a worker is held, in milliseconds.
    if ms > 5000:
        abort(400)
    time.sleep(ms / 1000)
    return {"slept_ms": ms}


@application.route("/headers/<int:size>")
def response_headers(size):
    # Response headers of about SIZE bytes, as an app with a big session cookie sends them: a
    # Set-Cookie of up to 3800 bytes, then X-Pad-N headers (or ?count=N small ones instead). The
    # body says what was sent, so a client can tell whether it got the cookie whole.
    count = request.args.get("count", 0, type=int)
    if size > 128 * 1024 or not 0 <= count <= 1000:
        abort(400)
    pairs = _small_headers(size, count) if count else _cookie_and_padding(size)
    response = application.json.response(
        header_count=len(pairs),
        header_bytes=sum(len(name) + len(value) + 4 for name, value in pairs),
        cookie_length=sum(len(value) for name, value in pairs if name == "Set-Cookie"),
    )
    for name, value in pairs:
        response.headers.add(name, value)
    return response


def _cookie_and_padding(size):
    # Each pair counts as a header line, "Name: value" and CRLF.
    cookie = "session=" + "c" * max(min(size, 3800) - len("Set-Cookie: session=\r\n"), 0)
    pairs = [("Set-Cookie", cookie)]
    left = size - len(cookie) - len("Set-Cookie: \r\n")
    while left > 0:
        name = f"X-Pad-{len(pairs)}"
        value = "p" * max(min(left, 4000) - len(name) - 4, 1)
        pairs.append((name, value))
        left -= len(name) + len(value) + 4
    return pairs


def _small_headers(size, count):
    names = [f"X-Pad-{n}" for n in range(count)]
    return [(name, "p" * max(size // count - len(name) - 4, 1)) for name in names]


@application.route("/stream/<int:mib>")
def stream(mib):
    # MIB MiB from a generator, 64 KiB at a time, its length announced: what a client that reads
    # slowly gets. With ?unbuffered=1 nginx buffers none of it (X-Accel-Buffering: no), so uWSGI
    # waits on nginx, which waits on the client. With ?length=0 its length is not announced (no
    # Content-Length): the server and nginx frame it themselves (the bench checks it comes whole).
    if mib > 64:
        abort(400)
    chunk = b"s" * 65536

    def body():
        for _chunk in range(mib * 16):
            yield chunk

    response = application.response_class(body(), mimetype="application/octet-stream")
    if request.args.get("length") != "0":
        response.headers["Content-Length"] = str(mib * 1024 * 1024)
    if request.args.get("unbuffered") == "1":
        response.headers["X-Accel-Buffering"] = "no"
    return response


@application.route("/upload", methods=["POST"])
def upload():
    # The body as the app read it, and how it came: nginx takes a chunked body whole and sends
    # its length. With ?echo=1, the body itself back, byte for byte (up to 1 MiB).
    body = request.get_data()
    if request.args.get("echo") == "1":
        if len(body) > 1024 * 1024:
            abort(400)
        return application.response_class(body, mimetype="application/octet-stream")
    return {
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "content_length": request.environ.get("CONTENT_LENGTH"),
        "transfer_encoding": request.environ.get("HTTP_TRANSFER_ENCODING"),
    }


@application.route("/request", defaults={"rest": ""})
@application.route("/request/<path:rest>")
def received(rest):
    # The request as the app got it: how many headers, the X-Shape-* ones and the path as they
    # were sent (WSGI hands bytes over as latin-1 text; read back as the UTF-8 they were).
    environ = request.environ
    return {
        "http_headers": sum(1 for key in environ if key.startswith("HTTP_")),
        "headers": {
            name: _wire_text(value)
            for name, value in request.headers.items()
            if name.lower().startswith("x-shape-")
        },
        "path": _wire_text(environ.get("PATH_INFO", "")),
        "query": environ.get("QUERY_STRING", ""),
        "script_name": environ.get("SCRIPT_NAME", ""),
    }


def _wire_text(value):
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


@application.route("/frame")
def frame():
    # An app that sets its own security headers, as Django's middleware does: they must reach the
    # client once each, not beside the site's defaults.
    response = application.response_class("<p>no frames</p>\n", mimetype="text/html")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@application.route("/executable")
def executable():
    # sys.executable as the app sees it, and the prefix of a child started with it, as tools that
    # spawn "the same Python" do: both must be the release's virtualenv.
    try:
        child = subprocess.run(
            [sys.executable, "-c", "import sys; print(sys.prefix)"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        child = f"failed: {type(exc).__name__}"
    return {"executable": sys.executable, "child_prefix": child, "prefix": sys.prefix}


@application.route("/events")
def events():
    # Server-sent events: three, half a second apart, each to reach the client when sent.
    def body():
        for n in range(3):
            if n:
                time.sleep(0.5)
            yield f"id: {n}\ndata: event {n}\n\n"

    response = application.response_class(body(), mimetype="text/event-stream")
    response.headers["X-Accel-Buffering"] = "no"
    response.headers["Cache-Control"] = "no-cache"
    return response


@application.route("/thread")
def thread():
    # A thread started by a request, after the worker was forked: it runs only if uWSGI lets the
    # app's threads run (enable-threads).
    result = []
    worker = threading.Thread(target=lambda: result.append(sum(n * n for n in range(1000))))
    worker.start()
    worker.join(5)
    if not result:
        abort(500)
    return {"result": result[0], "thread": worker.name}


def _text(value):
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


if __name__ == "__main__":
    application.run(host="127.0.0.1")
