"""``accord clocks``, ``accord clocks letter`` and ``accord webhooks``: what an operator types."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from accord.cli import app
from accord.service.store import Store
from helpers.service_world import world

from .test_clocks_outbox import _detain, _store

runner = CliRunner()


def test_the_operator_sees_the_running_hold_the_notices_and_prints_a_letter(sqlite_url: str, tmp_path) -> None:
    with _store(sqlite_url) as store:
        _detain(store, 1)  # NYC DOC: a hold (its limit in 2024: long past, not yet fired)
        _detain(store, 2, "texas")  # Texas: a notice to the person, as a letter
    got = runner.invoke(app, ["clocks", "--db", sqlite_url, "--json"])
    assert got.exit_code == 0, got.output
    view = json.loads(got.output)
    assert [h["request_id"] for h in view["holds"]] == ["det-1", "det-2"]
    assert all(h["remaining_seconds"] < 0 for h in view["holds"])  # past the limit: the next worker round fires it
    letters = [n["notice_id"] for n in view["notices"] if n["letter"]]
    assert letters == ["det-2.held_on_detainer_2251"]
    out = tmp_path / "letter.html"
    got = runner.invoke(app, ["clocks", "letter", letters[0], "--db", sqlite_url, "--out", str(out)])
    assert got.exit_code == 0, got.output
    assert "immigration detainer request issued by" in out.read_text()
    got = runner.invoke(app, ["clocks", "fire", "--db", sqlite_url])
    assert got.exit_code == 0 and "jobs fired" in got.output
    got = runner.invoke(app, ["clocks", "--db", sqlite_url])
    assert got.exit_code == 0 and "release" in got.output  # the holds ended with the people still in custody
    got = runner.invoke(app, ["clocks", "letter", "nope", "--db", sqlite_url])
    assert got.exit_code == 2 and "no notice nope" in got.output


def test_webhooks_add_refuses_a_private_address_in_one_line_and_lists_without_secrets(sqlite_url: str) -> None:
    with Store.open(sqlite_url) as store:
        world(store)
    got = runner.invoke(app, ["webhooks", "add", "https://10.0.0.8/hook", "--agency", "ice", "--db", sqlite_url])
    assert got.exit_code == 2 and "private address" in got.output and "Traceback" not in got.output
    got = runner.invoke(app, ["webhooks", "add", "http://127.0.0.1:9/hook", "--agency", "ice", "--db", sqlite_url, "--json"])
    assert got.exit_code == 0, got.output
    secret = json.loads(got.output)["secret"]
    listed = runner.invoke(app, ["webhooks", "list", "--db", sqlite_url, "--json"])
    assert listed.exit_code == 0 and secret not in listed.output and "127.0.0.1:9" in listed.output
