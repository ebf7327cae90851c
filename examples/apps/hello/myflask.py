"""A minimal Flask app laid out like the tutorials: the app lives here, wsgi.py imports it."""

import os
import socket
import sys
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


def _text(value):
    if isinstance(value, list):
        return [_text(item) for item in value]
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


if __name__ == "__main__":
    application.run(host="127.0.0.1")
