"""Ingest refuses what it would otherwise have to guess at: a key given twice, a stream that
contradicts the payload; and accepts a UTF-8 BOM in JSON Lines as it does in CSV."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.domain import EventKind
from accord.ledger import Ledger


def _line(samples, kind=EventKind.CUSTODY_BOOKED, **extra) -> str:
    return json.dumps({"kind": str(kind), "payload": samples[kind].model_dump(mode="json"), **extra})


def _ingest(path: Path, url: str):
    return CliRunner().invoke(app, ["ingest", str(path), "--db", url])


def test_a_key_given_twice_is_refused_naming_key_and_line(tmp_path: Path, sqlite_url: str, samples) -> None:
    good = _line(samples)
    twice = good[:-1] + ', "kind": "custody.booked"}'  # top level
    payload = json.loads(good)["payload"]
    inner = json.dumps({"kind": "custody.booked", "payload": payload})
    inner = inner.replace('"facility":', '"facility": "Other", "facility":', 1)  # nested in the payload
    f = tmp_path / "dups.jsonl"
    f.write_text("\n".join([_line(samples, EventKind.PERSON_REGISTERED), twice, inner]) + "\n")
    res = _ingest(f, sqlite_url)
    assert res.exit_code == 2, res.output
    assert "dups.jsonl:2: field 'kind': the key 'kind' is given twice" in res.output
    assert "dups.jsonl:3: field 'facility': the key 'facility' is given twice" in res.output
    assert "Traceback" not in res.output
    with Ledger.open(sqlite_url) as led:
        assert led.size == 0  # nothing half-written


def test_an_explicit_stream_contradicting_the_payload_is_refused(tmp_path: Path, sqlite_url: str, samples) -> None:
    f = tmp_path / "streams.jsonl"
    f.write_text("\n".join([
        _line(samples, stream="booking/B-0"),  # agrees: fine
        _line(samples, EventKind.DETAINER_RECEIVED, stream="detainer/D-999"),  # another id
        _line(samples, EventKind.CUSTODY_RELEASED, stream="detainer/D-0"),  # another kind's stream
    ]) + "\n")
    res = _ingest(f, sqlite_url)
    assert res.exit_code == 2, res.output
    assert "streams.jsonl:2: field 'stream': 'detainer/D-999' contradicts the payload's request_id 'D-0'" in res.output
    assert "streams.jsonl:3: field 'stream': 'detainer/D-0' is not a booking stream" in res.output
    assert "streams.jsonl:1" not in res.output


def test_a_utf8_bom_is_accepted_in_json_lines(tmp_path: Path, db_url: str, samples) -> None:
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b"\xef\xbb\xbf" + (_line(samples) + "\n" + _line(samples, EventKind.PERSON_REGISTERED) + "\n").encode())
    res = _ingest(f, db_url)
    assert res.exit_code == 0, res.output
    with Ledger.open(db_url) as led:
        assert [e.kind for e in led.events()] == ["custody.booked", "person.registered"]
