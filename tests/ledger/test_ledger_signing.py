"""Checkpoint keys: where the private key lives, and that old checkpoints survive a new key."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from accord.ledger import Ledger
from accord.ledger.signing import KEY_FILE_ENV, key_id_of, signature_valid


def _keys(url: str) -> list[tuple]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT key_id, public_key, private_key FROM ledger_keys")).all()
    engine.dispose()
    return rows


def test_key_lives_beside_sqlite_store_or_in_table_or_where_told(db_url: str, tmp_path: Path, monkeypatch) -> None:
    led = Ledger.open(db_url)
    led.append("decision.made", {"n": 1}, stream="detainer/D-1")
    cp = led.checkpoint()
    (key_id, public, private), = _keys(db_url)
    assert key_id == cp.key_id == key_id_of(bytes(public)) and bytes(public) == cp.public_key
    if db_url.startswith("sqlite"):
        assert private is None  # the private half is only in the file beside the store
        assert Path(db_url.removeprefix("sqlite:///") + ".signing-key").exists()
    else:
        assert private is not None  # PostgreSQL without ACCORD_SIGNING_KEY_FILE: kept in the table
    led.close()

    key_file = tmp_path / "elsewhere.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))
    led = Ledger.open(db_url)
    cp2 = led.checkpoint()
    assert key_file.exists() and cp2.key_id != cp.key_id
    assert {k for k, _, _ in _keys(db_url)} == {cp.key_id, cp2.key_id}
    assert signature_valid(cp.public_key, cp.signature, cp.note())  # the old checkpoint still verifies
    report = led.verify()
    assert report.ok and report.checkpoints_checked == 2
    led.close()
