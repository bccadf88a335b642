"""A rejected row names every field that is wrong, so a person can fix the file in one pass."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger


def test_every_problem_of_a_row_is_named_and_nothing_lands(tmp_path: Path) -> None:
    src = tmp_path / "rows.jsonl"
    src.write_text(
        json.dumps({"kind": "custody.booked", "payload": {"booking_id": "b-1", "facility": "Synthetic Facility"}}) + "\n"
    )
    db = f"sqlite:///{tmp_path / 'l.db'}"
    result = CliRunner().invoke(app, ["ingest", str(src), "--db", db])
    assert result.exit_code == 2
    message = result.output + (result.stderr if result.stderr_bytes is not None else "")
    for field in ("person_id", "jurisdiction", "agency_id", "booked_at"):
        assert f"field 'payload.{field}'" in message
    assert "rows.jsonl:1:" in message
    assert "field 'payload.facility'" not in message  # a good field is not blamed
    with Ledger.open(db) as led:
        assert list(led.events()) == []
