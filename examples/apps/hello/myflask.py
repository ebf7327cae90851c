"""A minimal Flask app laid out like the tutorials: the app lives here, wsgi.py imports it."""

import sys

from flask import Flask

application = Flask(__name__)


@application.route("/")
def hello():
    return "<h1>Hello from pyops.uwsgi</h1>\n"


@application.route("/version")
def version():
    # Which interpreter and which virtualenv serve this app.
    return {"version": sys.version, "prefix": sys.prefix}


if __name__ == "__main__":
    application.run(host="127.0.0.1")
