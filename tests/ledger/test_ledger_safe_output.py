"""Stored text reaches a terminal with its control characters written out; JSON stays exact;
`accord events --json` hides personal fields unless asked (and says so on stderr)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger

EXAMPLE = Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json"
HOSTILE = "Field Office\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil"


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "300"})


def test_a_stored_escape_sequence_is_shown_escaped_by_explain(tmp_path: Path, db_url: str) -> None:
    case = json.loads(EXAMPLE.read_text())
    case["detainer"]["issuing_office"] = HOSTILE
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case))
    res = _run("decide", "--pack", "nyc_doc", str(f), "--record", "--db", db_url, "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)["recorded"]
    with Ledger.open(db_url) as led:
        assert led.get(rec["detainer_seq"]).payload["issuing_office"] == HOSTILE  # stored exactly
    shown = _run("explain", str(rec["detainer_seq"]), "--db", db_url)
    assert shown.exit_code == 0, shown.output
    assert "\x1b" not in shown.output and "\x07" not in shown.output and "\x9b" not in shown.output
    assert "\u202e" not in shown.output
    assert "Field Office\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil" in shown.output
    listed = _run("events", "--db", db_url)
    assert listed.exit_code == 0 and "\x1b" not in listed.output
    exact = _run("events", "--db", db_url, "--json", "--kind", "detainer.received")
    assert json.loads(exact.output.splitlines()[0])["payload"]["issuing_office"] == HOSTILE  # JSON stays exact


def test_events_json_redacts_personal_fields_unless_asked(db_url: str, samples, caplog) -> None:
    from accord.domain import EventKind

    with Ledger.open(db_url) as led:
        led.append(EventKind.PERSON_REGISTERED, samples[EventKind.PERSON_REGISTERED])
    res = _run("events", "--db", db_url, "--json")
    payload = json.loads(res.output)["payload"]
    assert payload["name"] == payload["birth_date"] == payload["country_of_citizenship"] == "<redacted>"
    assert payload["person_id"] == "P-0" and "Synthetic Person" not in res.output
    with caplog.at_level(logging.WARNING, logger="accord.audit"):
        res = _run("events", "--db", db_url, "--json", "--include-personal")
    assert json.loads(res.output)["payload"]["name"] == "Synthetic Person"
    assert any("--include-personal" in r.getMessage() and "1 events" in r.getMessage() for r in caplog.records)
