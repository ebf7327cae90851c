"""A project of the src layout: importable only once installed into the virtualenv."""

from greeting import greet

from srcapp import VERSION


def application(environ, start_response):
    body = f"{greet('srcapp')} {VERSION}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def make_app():
    """An application factory, for the verifier's wrong entry points."""
    return application
