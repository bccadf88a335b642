"""``accord tokens issue|list|revoke|rotate`` and ``accord serve --help``, as an operator would use them."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from accord.api import tokens
from accord.cli import app
from accord.service.store import Store
from helpers.service_world import world

runner = CliRunner()


def _run(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_issue_list_rotate_revoke(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        world(store)
    issued = _run("tokens", "issue", "--agency", "ice", "--scope", "submit", "--scope", "read", "--label", "field office",
                  "--db", sqlite_url, "--json")
    assert issued.exit_code == 0, issued.output
    data = json.loads(issued.output)
    token, token_id = data["token"], data["token_id"]
    assert token.startswith(f"acc_{token_id}_") and data["scopes"] == ["read", "submit"]
    listed = _run("tokens", "list", "--db", sqlite_url, "--json")
    assert token not in listed.output and json.loads(listed.output)[0]["state"] == "active"
    with Store.open(sqlite_url) as store:
        stored = store.engine.connect().execute(tokens.schema.tokens.select()).all()
        assert token not in repr(stored) and stored[0].secret_hash == tokens.digest(token)
        assert tokens.authenticate(store.engine, token).agency_id == "ice"
    rotated = _run("tokens", "rotate", token_id, "--db", sqlite_url, "--json")
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.output)
    assert new["replaces"] == token_id and new["token"] != token
    revoked = _run("tokens", "revoke", new["token_id"], "--db", sqlite_url)
    assert revoked.exit_code == 0
    states = {t["token_id"]: t["state"] for t in json.loads(_run("tokens", "list", "--db", sqlite_url, "--json").output)}
    assert states == {token_id: "revoked", new["token_id"]: "revoked"}


def test_bad_issues_are_one_line_errors(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        world(store)
    for args, words in [(("--agency", "nowhere", "--scope", "read"), "not registered"),
                        (("--agency", "ice", "--scope", "superuser"), "scopes must be"),
                        (("--scope", "read"), "auditor"),
                        (("--scope", "auditor", "--scope", "submit"), "writes nothing"),
                        (("--agency", "ice", "--scope", "read", "--expires", "2001-01-01"), "not in the future")]:
        r = _run("tokens", "issue", *args, "--db", sqlite_url)
        assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output, (args, r.output)
    with Store.open(sqlite_url) as store:
        assert tokens.list_tokens(store.engine) == []


def test_serve_help_names_its_options() -> None:
    r = _run("serve", "--help")
    assert r.exit_code == 0 and all(o in r.output for o in ("--host", "--port", "--workers", "--db"))
