"""``accord users add|list``: officers need a registered custodian, auditors none; bad input is one line naming the field."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from accord.cli import app
from helpers.service_world import JAIL, world

PW = "a-long-synthetic-password\n"


def _run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), input=input)


def test_add_and_list_users(sqlite_url):
    from accord.service.store import Store

    with Store.open(sqlite_url) as store:
        world(store)
    r = _run("users", "add", "olive", "--role", "officer", "--agency", JAIL, "--password-stdin", "--db", sqlite_url, input=PW)
    assert r.exit_code == 0, r.output
    assert _run("users", "add", "audrey", "--role", "auditor", "--password-stdin", "--db", sqlite_url, input=PW).exit_code == 0
    got = json.loads(_run("users", "list", "--json", "--db", sqlite_url).stdout)
    assert [(u["username"], u["role"], u["agency_id"]) for u in got] == [("audrey", "auditor", None), ("olive", "officer", JAIL)]
    assert "password" not in json.dumps(got) and "argon2" not in json.dumps(got)
    from accord.console.users import list_users

    with Store.open(sqlite_url) as store:
        import sqlalchemy as sa

        from accord.console import schema

        with store.engine.connect() as conn:
            stored = conn.execute(sa.select(schema.users.c.password_hash)).scalars().all()
        assert all(h.startswith("$argon2id$") for h in stored) and len(list_users(store.engine)) == 2


def test_bad_input_is_one_line_naming_the_field(sqlite_url):
    from accord.service.store import Store

    with Store.open(sqlite_url) as store:
        world(store)
    cases = [
        (("users", "add", "x", "--role", "chief"), "role"),
        (("users", "add", "x", "--role", "officer"), "agency"),
        (("users", "add", "x", "--role", "auditor", "--agency", JAIL), "agency"),
        (("users", "add", "x", "--role", "officer", "--agency", "no-such-agency"), "agency"),
        (("users", "add", "Bad Name!", "--role", "auditor"), "username"),
    ]
    for args, field in cases:
        r = _run(*args, "--password-stdin", "--db", sqlite_url, input=PW)
        assert r.exit_code != 0 and field in r.output and "Traceback" not in r.output, (args, r.output)
        assert len(r.output.strip().splitlines()) == 1, r.output
    r = _run("users", "add", "x", "--role", "auditor", "--password-stdin", "--db", sqlite_url, input="short\n")
    assert r.exit_code != 0 and "password" in r.output
    assert _run("users", "add", "x", "--role", "auditor", "--password-stdin", "--db", sqlite_url, input=PW).exit_code == 0
    r = _run("users", "add", "x", "--role", "auditor", "--password-stdin", "--db", sqlite_url, input=PW)
    assert r.exit_code != 0 and "already exists" in r.output
