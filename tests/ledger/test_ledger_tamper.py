"""Tampering with the stored ledger is caught by `accord audit verify`, which names the sequence."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger, NewEvent
from accord.ledger.merkle import CompactRange

CHECKPOINT_AT = 30
TOTAL = 40


@pytest.fixture
def ledger_url(db_url: str, samples, sample_factory) -> str:
    """40 events of every kind, a checkpoint after the first 30."""
    led = Ledger.open(db_url)
    kinds = list(samples)
    make_samples = sample_factory

    batch = []
    for i in range(TOTAL):
        kind = kinds[i % len(kinds)]
        batch.append(NewEvent(kind, make_samples(i // len(kinds))[kind]))
    led.append_many(batch[:CHECKPOINT_AT])
    led.checkpoint()
    for ev in batch[CHECKPOINT_AT:]:
        led.append(ev.kind, ev.payload)
    assert led.verify().ok
    led.close()
    return db_url


def audit_verify(url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--db", url, *extra])
    return result.exit_code, result.output


def sql(url: str, statement: str, **params) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            res = conn.execute(sa.text(statement), params)
            return res.all() if res.returns_rows else []
    finally:
        engine.dispose()


def test_untampered_ledger_verifies(ledger_url: str) -> None:
    code, output = audit_verify(ledger_url)
    assert code == 0, output
    assert f"{TOTAL} events" in output and "1 checkpoint" in output


def test_changing_one_byte_of_any_payload_is_named(ledger_url: str) -> None:
    rng = random.Random(20261127)
    for seq in sorted(rng.sample(range(1, TOTAL + 1), 4)) + [1, TOTAL]:
        (original,) = sql(ledger_url, "SELECT payload FROM ledger_events WHERE seq = :s", s=seq)[0]
        pos = rng.randrange(len(original))
        replacement = "#" if original[pos] != "#" else "%"
        tampered = original[:pos] + replacement + original[pos + 1:]
        sql(ledger_url, "UPDATE ledger_events SET payload = :p WHERE seq = :s", p=tampered, s=seq)
        code, output = audit_verify(ledger_url)
        assert code == 3, output
        assert f"seq {seq}:" in output and "leaf hash" in output
        sql(ledger_url, "UPDATE ledger_events SET payload = :p WHERE seq = :s", p=original, s=seq)
    assert audit_verify(ledger_url)[0] == 0


def test_deleting_a_row_is_named(ledger_url: str) -> None:
    sql(ledger_url, "DELETE FROM ledger_events WHERE seq = 12")
    code, output = audit_verify(ledger_url)
    assert code == 3 and "seq 12:" in output and "missing" in output


def test_reordering_two_rows_is_named(ledger_url: str) -> None:
    sql(ledger_url, "UPDATE ledger_events SET seq = -1 WHERE seq = 5")
    sql(ledger_url, "UPDATE ledger_events SET seq = 5 WHERE seq = 9")
    sql(ledger_url, "UPDATE ledger_events SET seq = 9 WHERE seq = -1")
    code, output = audit_verify(ledger_url)
    assert code == 3 and "seq 5:" in output


def _truncate_cleanly(url: str, keep: int) -> None:
    """What a careful attacker does: drop the tail and rewrite the head to match what is left."""
    rows = sql(url, "SELECT leaf_hash, chain_hash FROM ledger_events WHERE seq <= :k ORDER BY seq", k=keep)
    tree = CompactRange()
    for leaf, _ in rows:
        tree.append(bytes(leaf))
    sql(url, "DELETE FROM ledger_events WHERE seq > :k", k=keep)
    sql(url, "DELETE FROM ledger_nodes")  # the tail's nodes would give it away; none are needed below 256
    sql(url, "UPDATE ledger_head SET size = :n, chain_hash = :c, edge = :e", n=keep, c=bytes(rows[-1][1]), e=tree.to_bytes())


def test_truncating_the_tail_after_a_checkpoint_is_named(ledger_url: str) -> None:
    _truncate_cleanly(ledger_url, keep=25)
    code, output = audit_verify(ledger_url)
    assert code == 3 and "seq 26:" in output and "removed" in output


def test_truncation_with_checkpoints_deleted_is_caught_by_the_published_one(ledger_url: str, tmp_path: Path) -> None:
    published = tmp_path / "checkpoint.json"
    assert CliRunner().invoke(app, ["audit", "checkpoint", "--db", ledger_url, "--out", str(published)]).exit_code == 0
    assert json.loads(published.read_text())["size"] == TOTAL
    _truncate_cleanly(ledger_url, keep=33)
    sql(ledger_url, "DELETE FROM ledger_checkpoints")
    assert audit_verify(ledger_url)[0] == 0  # nothing inside the store can tell...
    code, output = audit_verify(ledger_url, "--against", str(published))  # ...the published checkpoint can
    assert code == 3 and "seq 34:" in output


def test_a_rewritten_and_rehashed_history_contradicts_the_checkpoint(ledger_url: str) -> None:
    """Even with every hash recomputed, the signed checkpoint root no longer matches."""
    from accord.ledger.merkle import leaf_hash
    from accord.ledger.writer import entry_bytes
    import hashlib

    rows = sql(ledger_url, "SELECT seq, stream, stream_seq, kind, caused_by, recorded_at, payload FROM ledger_events ORDER BY seq")
    chain, tree = bytes(32), CompactRange()
    for seq, stream, ss, kind, cb, rec, payload in rows:
        if seq == 10:
            payload = payload + " "  # one more byte
        leaf = leaf_hash(entry_bytes(seq, stream, ss, kind, cb, rec, payload))
        chain = hashlib.sha256(chain + leaf).digest()
        tree.append(leaf)
        sql(ledger_url, "UPDATE ledger_events SET payload = :p, leaf_hash = :l, chain_hash = :c WHERE seq = :s",
            p=payload, l=leaf, c=chain, s=seq)
    sql(ledger_url, "UPDATE ledger_head SET chain_hash = :c, edge = :e", c=chain, e=tree.to_bytes())
    code, output = audit_verify(ledger_url)
    assert code == 3 and f"seq {CHECKPOINT_AT}:" in output and "checkpoint" in output


def test_a_forged_checkpoint_signature_is_named(ledger_url: str) -> None:
    sql(ledger_url, "UPDATE ledger_checkpoints SET size = size + 0, created_at = '2020-01-01T00:00:00.000000Z'")
    code, output = audit_verify(ledger_url)
    assert code == 3 and "invalid signature" in output and f"seq {CHECKPOINT_AT}" in output
