"""A Flask app on a PostgreSQL database shared by every app host of scenario fleet.

Its connection comes from the standard libpq variables (PGHOST, PGDATABASE, PGUSER, PGPASSWORD)
in app_env. Two commands are its release phases: `flask --app ledger migrate` (expand: creates
what the code needs, safe while the previous release still serves) and `flask --app ledger
contract` (after every host serves the new release: records that it ran, with the host).
"""

import os
import pathlib
import socket

import click
import psycopg
from flask import Flask, g

application = Flask(__name__)
# The rollouts of the verifier write another release.txt (a new release of the code).
RELEASE = (pathlib.Path(__file__).parent / "release.txt").read_text().strip()


def connection():
    if "db" not in g:
        g.db = psycopg.connect(autocommit=True)
    return g.db


@application.teardown_appcontext
def close(_error):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@application.route("/")
def home():
    return "<h1>ledger</h1>\n"


@application.route("/whoami")
def whoami():
    # Which host and worker process answered: tells load-balanced hosts apart.
    return {"host": socket.gethostname(), "pid": os.getpid(), "release": RELEASE}


@application.route("/entries", methods=["POST"])
def add_entry():
    row = (
        connection()
        .execute("INSERT INTO entry (host) VALUES (%s) RETURNING id", (socket.gethostname(),))
        .fetchone()
    )
    return {"id": row[0], "host": socket.gethostname()}, 201


@application.route("/entries")
def entries():
    rows = connection().execute("SELECT host, count(*) FROM entry GROUP BY host").fetchall()
    return dict(rows)


@application.cli.command("migrate")
def migrate():
    """Create the tables this release needs (idempotent)."""
    with psycopg.connect(autocommit=True) as db:
        db.execute("CREATE TABLE IF NOT EXISTS entry (id serial PRIMARY KEY, host text NOT NULL)")
        db.execute(
            "CREATE TABLE IF NOT EXISTS contract_run"
            " (id serial PRIMARY KEY, host text NOT NULL, release text NOT NULL,"
            " at timestamptz NOT NULL DEFAULT now())"
        )
    click.echo(f"migrated on {socket.gethostname()}")


@application.cli.command("contract")
def contract():
    """The contract step: runs once every host serves this release; records where it ran."""
    with psycopg.connect(autocommit=True) as db:
        db.execute(
            "INSERT INTO contract_run (host, release) VALUES (%s, %s)",
            (socket.gethostname(), RELEASE),
        )
    click.echo(f"contract ran on {socket.gethostname()}")
