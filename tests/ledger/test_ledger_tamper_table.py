"""The tamper table (issue #15): 23 ways to change a stored ledger, each caught by
`accord audit verify --against WITNESS`.

The first 20 change history a witnessed checkpoint covers (its first 280 events): caught with the
witness published before the change. The last 3 change the TAIL (events 281..300, after that
checkpoint): with only the older witness nobody can tell (asserted below, as README's threat model
says); they are caught only once the next witnessed checkpoint (at 300) had been published before
the change. An attacker who holds the private signing key is outside this table.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger, NewEvent
from accord.ledger.merkle import CompactRange, leaf_hash
from accord.ledger.signing import Signer
from accord.ledger.writer import entry_bytes

from .test_ledger_tamper import sql

WITNESSED = 280
TOTAL = 300




def _rows(url: str) -> list[list]:
    return [list(r) for r in sql(url, "SELECT seq, stream, stream_seq, kind, caused_by, recorded_at, payload "
                                        "FROM ledger_events ORDER BY seq")]


def _rewrite(url: str, rows: list[list]) -> None:
    """What a careful attacker does: store ``rows`` as the whole ledger with every hash, node and the head recomputed."""
    chain, tree, nodes, stored = bytes(32), CompactRange(), [], []
    for seq, stream, ss, kind, cb, rec, payload in rows:
        leaf = leaf_hash(entry_bytes(seq, stream, ss, kind, cb, rec, payload))
        chain = hashlib.sha256(chain + leaf).digest()
        tree.append(leaf, lambda level, index, h: nodes.append({"l": level, "i": index, "h": h}) if level % 8 == 0 else None)
        stored.append({"s": seq, "st": stream, "ss": ss, "k": kind, "cb": cb, "r": rec, "p": payload, "l": leaf, "c": chain})
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM ledger_events"))
            conn.execute(sa.text("DELETE FROM ledger_nodes"))
            conn.execute(sa.text("INSERT INTO ledger_events (seq, stream, stream_seq, kind, caused_by, recorded_at, payload, "
                                 "leaf_hash, chain_hash) VALUES (:s, :st, :ss, :k, :cb, :r, :p, :l, :c)"), stored)
            if nodes:
                conn.execute(sa.text("INSERT INTO ledger_nodes (level, idx, hash) VALUES (:l, :i, :h)"), nodes)
            conn.execute(sa.text("UPDATE ledger_head SET size = :n, chain_hash = :c, edge = :e"),
                         {"n": len(rows), "c": chain, "e": tree.to_bytes()})
    finally:
        engine.dispose()


def _resign_all(url: str) -> None:
    """Re-sign every stored checkpoint over the (rewritten) tree with a fresh key of the attacker's own."""
    forger = Signer(Ed25519PrivateKey.generate())
    led = Ledger.open(url)
    for cp in led.checkpoints():
        root = led.root_hash(cp.size)
        fake = type(cp)(cp.origin, cp.size, root, cp.created_at, forger.key_id, forger.public_key)
        sql(url, "UPDATE ledger_checkpoints SET root_hash = :r, key_id = :k, public_key = :p, signature = :s "
                  "WHERE size = :n", r=root, k=forger.key_id, p=forger.public_key, s=forger.sign(fake.note()), n=cp.size)
    led.close()


def _payload(url: str, seq: int = 10) -> None:
    sql(url, "UPDATE ledger_events SET payload = replace(payload, '\"n\":', '\"n\": ') WHERE seq = :s", s=seq)


def _column(column: str, value: str):
    return lambda url: sql(url, f"UPDATE ledger_events SET {column} = {value} WHERE seq = 10")


def _swap(url: str) -> None:
    sql(url, "UPDATE ledger_events SET seq = -1 WHERE seq = 5")
    sql(url, "UPDATE ledger_events SET seq = 5 WHERE seq = 9")
    sql(url, "UPDATE ledger_events SET seq = 9 WHERE seq = -1")


def _rehash_history(url: str, resign: bool = False, drop_checkpoints: bool = False) -> None:
    rows = _rows(url)
    rows[9][6] = rows[9][6].replace('"n":', '"n": ')
    _rewrite(url, rows)
    if drop_checkpoints:
        sql(url, "DELETE FROM ledger_checkpoints")
    if resign:
        _resign_all(url)


def _truncate_history(url: str) -> None:
    _rewrite(url, _rows(url)[:250])
    sql(url, "DELETE FROM ledger_checkpoints")


def _node(url: str) -> None:
    sql(url, "UPDATE ledger_nodes SET hash = :h WHERE level = 8 AND idx = 0", h=bytes(32))


def _tail_truncate(url: str) -> None:
    _rewrite(url, _rows(url)[:290])
    sql(url, "DELETE FROM ledger_checkpoints WHERE size > :w", w=WITNESSED)


def _tail_rewrite(url: str) -> None:
    rows = _rows(url)
    rows[294][6] = rows[294][6].replace('"n":', '"n": ')
    _rewrite(url, rows)
    sql(url, "DELETE FROM ledger_checkpoints WHERE size > :w", w=WITNESSED)


def _tail_insert(url: str) -> None:
    """A forged event slipped into the tail, later events renumbered, the head updated to match."""
    rows = _rows(url)
    forged = [WITNESSED + 6, "detainer/forged", 1, "decision.made", None, rows[WITNESSED + 5][5], '{"forged":true}']
    rows = rows[:WITNESSED + 5] + [forged] + [[r[0] + 1, *r[1:]] for r in rows[WITNESSED + 5:]]
    _rewrite(url, rows)
    sql(url, "DELETE FROM ledger_checkpoints WHERE size > :w", w=WITNESSED)


#: (kind, tamper, tail?)
TABLE = [
    ("payload byte changed", _payload, False),
    ("kind changed", _column("kind", "'decision.revoked'"), False),
    ("stream changed", _column("stream", "'detainer/other'"), False),
    ("stream_seq changed", _column("stream_seq", "stream_seq + 100"), False),
    ("caused_by changed", _column("caused_by", "3"), False),
    ("recorded_at changed", _column("recorded_at", "'2020-01-01T00:00:00.000000Z'"), False),
    ("leaf hash overwritten", lambda url: sql(url, "UPDATE ledger_events SET leaf_hash = chain_hash WHERE seq = 10"), False),
    ("chain hash overwritten", lambda url: sql(url, "UPDATE ledger_events SET chain_hash = leaf_hash WHERE seq = 10"), False),
    ("row deleted", lambda url: sql(url, "DELETE FROM ledger_events WHERE seq = 12"), False),
    ("two rows swapped", _swap, False),
    ("row copied to an extra seq", lambda url: sql(
        url, "INSERT INTO ledger_events SELECT seq + 1000, stream, stream_seq + 1000, kind, caused_by, recorded_at, "
             "payload, leaf_hash, chain_hash FROM ledger_events WHERE seq = 7"), False),
    ("stored Merkle node changed", _node, False),
    ("head size changed", lambda url: sql(url, "UPDATE ledger_head SET size = size - 1"), False),
    ("head chain hash changed", lambda url: sql(url, "UPDATE ledger_head SET chain_hash = :z", z=bytes(32)), False),
    ("head tree edge changed", lambda url: sql(url, "UPDATE ledger_head SET edge = :z", z=bytes(32 * 3)), False),
    ("checkpoint root changed", lambda url: sql(url, "UPDATE ledger_checkpoints SET root_hash = :z", z=bytes(32)), False),
    ("history rehashed, head updated", _rehash_history, False),
    ("history rehashed, checkpoints re-signed with a new key", lambda url: _rehash_history(url, resign=True), False),
    ("history rehashed, store's checkpoints deleted", lambda url: _rehash_history(url, drop_checkpoints=True), False),
    ("history truncated below the witness, checkpoints deleted", _truncate_history, False),
    ("tail truncated (rollback), head updated", _tail_truncate, True),
    ("tail event rewritten, rehashed, head updated", _tail_rewrite, True),
    ("forged event inserted into the tail, head updated", _tail_insert, True),
]


def _verify(url: str, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["audit", "verify", "--db", url, *extra], env={"COLUMNS": "300"})
    return res.exit_code, res.output


def _publish(url: str, folder: Path) -> None:
    res = CliRunner().invoke(app, ["audit", "checkpoint", "--db", url, "--publish", str(folder)])
    assert res.exit_code == 0, res.output


def test_the_table_has_23_kinds() -> None:
    assert len(TABLE) == 23 and len({k for k, _, _ in TABLE}) == 23


@pytest.mark.parametrize(("kind", "tamper", "tail"), TABLE, ids=[k for k, _, _ in TABLE])
def test_each_kind_of_tamper_is_caught_with_a_witness(kind: str, tamper, tail: bool, db_url: str, tmp_path: Path) -> None:
    led = Ledger.open(db_url)
    led.append_many([NewEvent("decision.made", {"n": i}, stream=f"detainer/D-{i % 9}", caused_by=None)
                     for i in range(WITNESSED)])
    early, late = tmp_path / "witness-280", tmp_path / "witness-300"
    _publish(db_url, early)
    led.append_many([NewEvent("decision.made", {"n": i}, stream=f"detainer/D-{i % 9}") for i in range(WITNESSED, TOTAL)])
    led.close()
    _publish(db_url, late)
    for f in early.glob("0*.checkpoint"):  # the later witness holds both notes
        (late / f.name).write_text(f.read_text())
    assert _verify(db_url, "--against", str(late))[0] == 0

    tamper(db_url)
    if tail:
        # Documented limit: with only the older witness, a careful change to the tail is invisible ...
        assert _verify(db_url, "--against", str(early))[0] == 0
        # ... and it is caught once the next witnessed checkpoint (published before the change) is checked.
        code, output = _verify(db_url, "--against", str(late))
    else:
        code, output = _verify(db_url, "--against", str(early))
    assert code == 3, f"{kind}: {output}"
    assert "FAILED" in output and "Traceback" not in output


def test_a_published_note_is_c2sp_text_and_one_signed_by_an_untrusted_key_is_named(sqlite_url: str, tmp_path: Path) -> None:
    from accord.ledger.witness import to_signed_note

    led = Ledger.open(sqlite_url)
    led.append("decision.made", {"n": 1}, stream="detainer/D-1")
    folder = tmp_path / "w"
    _publish(sqlite_url, folder)
    note = (folder / "latest.checkpoint").read_text()
    origin, size, root, stamp, blank, sig, end = note.split("\n")
    assert origin.startswith("accord.ledger/") and size == "1" and len(root) == 44 and blank == "" and end == ""
    assert sig.startswith(f"\u2014 {origin} ")
    cp = led.checkpoints()[-1]
    forger = Signer(Ed25519PrivateKey.generate())
    forged = type(cp)(cp.origin, cp.size, cp.root_hash, cp.created_at, forger.key_id, forger.public_key)
    forged = type(cp)(*[getattr(forged, f) for f in ("origin", "size", "root_hash", "created_at", "key_id", "public_key")],
                      forger.sign(forged.note()))
    (folder / "000000000001-forged.checkpoint").write_text(to_signed_note(forged))
    code, output = _verify(sqlite_url, "--against", str(folder))
    assert code == 3 and "000000000001-forged.checkpoint" in output and "not signed by a trusted key" in output
    led.close()
