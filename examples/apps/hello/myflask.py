"""A minimal Flask app laid out like the tutorials: the app lives here, wsgi.py imports it."""

import os
import socket
import sys
import time

from flask import Flask, abort, request

application = Flask(__name__)


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


@application.route("/scheme")
def scheme():
    # How the app sees the request's scheme (wsgi.url_scheme, from nginx's HTTPS variable).
    return {"scheme": request.scheme, "https": request.environ.get("HTTPS", ""), "url": request.url}


@application.route("/sleep/<int:seconds>")
def sleep(seconds):
    # A slow request, to see harakiri end it; bounded so nobody ties up a worker for long.
    if seconds > 60:
        abort(400)
    time.sleep(seconds)
    return {"slept": seconds}


if __name__ == "__main__":
    application.run(host="127.0.0.1")
