"""Every domain type goes into the ledger and comes back equal, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from accord.domain import PAYLOAD_MODELS
from accord.errors import InputError, NotFoundError
from accord.ledger import Ledger, NewEvent, canonical_json
from accord.ledger.merkle import leaf_hash
from accord.ledger.signing import signature_valid
from accord.ledger.writer import entry_bytes


def test_every_domain_type_round_trips(db_url: str, samples) -> None:
    led = Ledger.open(db_url)
    before = datetime.now(UTC) - timedelta(seconds=1)
    stored = {kind: led.append(kind, model) for kind, model in samples.items()}
    led.close()

    led = Ledger.open(db_url)  # a fresh process would see the same
    for kind, model in samples.items():
        ev = led.get(stored[kind].seq)
        assert ev == stored[kind]
        assert ev.kind == kind
        again = PAYLOAD_MODELS[kind].model_validate_json(ev.payload_json)
        assert again == model
        assert ev.payload_json.encode() == canonical_json(model)
        assert before <= ev.recorded_at <= datetime.now(UTC)
        # the leaf hash is the RFC 6962 leaf of the event's canonical JSON
        assert ev.leaf_hash == leaf_hash(entry_bytes(ev.seq, ev.stream, ev.stream_seq, ev.kind, ev.caused_by,
                                                     ev.recorded_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), ev.payload_json))
    assert [e.seq for e in led.events()] == list(range(1, len(samples) + 1))
    assert led.verify().ok
    led.close()


def test_streams_sequences_filters_and_caused_by(db_url: str, samples) -> None:

    led = Ledger.open(db_url)
    booked = led.append("custody.booked", samples["custody.booked"])
    assert (booked.seq, booked.stream, booked.stream_seq) == (1, "booking/B-0", 1)
    detainer = led.append("detainer.received", samples["detainer.received"])
    decision = led.append("decision.made", {"outcome": "deny", "rule_ids": ["nyc.9-131.b"]},
                          stream=detainer.stream, caused_by=detainer.seq)
    released = led.append("custody.released", samples["custody.released"], caused_by=decision.seq)
    assert (decision.stream, decision.stream_seq, decision.caused_by) == ("detainer/D-0", 2, 2)
    assert (released.stream, released.stream_seq) == ("booking/B-0", 2)
    # a decision without a stream joins the stream of the event that caused it
    explained = led.append("decision.made", {"outcome": "allow"}, caused_by=released.seq)
    assert (explained.stream, explained.stream_seq, explained.caused_by) == ("booking/B-0", 3, 4)

    batch = led.append_many([NewEvent("notice.due", samples["notice.due"], caused_by=released.seq),
                             NewEvent("notice.sent", samples["notice.sent"])])
    assert [(e.seq, e.stream, e.stream_seq) for e in batch] == [(6, "notice/N-0", 1), (7, "notice/N-0", 2)]

    assert [e.seq for e in led.events(kind="custody.released")] == [4]
    assert [e.seq for e in led.events(stream="booking/B-0")] == [1, 4, 5]
    assert [e.seq for e in led.events(after_seq=2, limit=2)] == [3, 4]
    assert [e.seq for e in led.events(after_seq=1, until_seq=3)] == [2, 3]
    assert led.get(3).payload == {"outcome": "deny", "rule_ids": ["nyc.9-131.b"]}
    with pytest.raises(NotFoundError, match="seq 99"):
        led.get(99)
    with pytest.raises(InputError, match="caused_by"):
        led.append("decision.made", {"outcome": "deny"}, stream="detainer/D-0", caused_by=99)
    with pytest.raises(InputError, match="stream"):
        led.append("decision.made", {"outcome": "deny"})  # no stream can be derived
    with pytest.raises(InputError, match="stream"):
        led.append("decision.made", {"outcome": "deny"}, stream="has space")
    assert led.size == 7  # the rejected appends left nothing behind
    assert led.verify().ok
    led.close()


def test_many_pages_and_proofs_over_stored_nodes(db_url: str) -> None:
    """More than 256 events so proofs read stored level-8 nodes, and more than one page of events."""
    led = Ledger.open(db_url)
    n = 2600
    events = [NewEvent("decision.made", {"i": i, "s": "x" * (i % 7)}, stream=f"detainer/D-{i % 13}") for i in range(n)]
    led.append_many(events[:1000])
    cp1 = led.checkpoint()
    for i in range(1000, n, 400):
        led.append_many(events[i:i + 400])
    cp2 = led.checkpoint()
    assert [e.seq for e in led.events(kind="decision.made")] == list(range(1, n + 1))
    assert len(list(led.events(stream="detainer/D-3"))) == len(range(3, n, 13))
    for seq in (1, 256, 257, 1000, 2048, n):
        proof = led.prove_inclusion(seq)
        assert proof.root_hash == cp2.root_hash and proof.verify()
        assert led.prove_inclusion(seq, size=max(seq, 1000)).verify()
    cons = led.prove_consistency(cp1.size, cp2.size)
    assert (cons.old_root, cons.new_root) == (cp1.root_hash, cp2.root_hash) and cons.verify()
    assert signature_valid(cp2.public_key, cp2.signature, cp2.note())
    assert not signature_valid(cp2.public_key, cp2.signature, cp1.note())
    report = led.verify()
    assert report.ok and report.size == n and report.root_hash == cp2.root_hash and report.checkpoints_checked == 2
    led.close()


def test_threads_appending_at_once_leave_one_chain(db_url: str) -> None:
    led = Ledger.open(db_url)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(25):
                led.append("decision.made", {"thread": t, "i": i}, stream=f"detainer/T{t % 2}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert led.size == 100
    for stream in ("detainer/T0", "detainer/T1"):
        assert [e.stream_seq for e in led.events(stream=stream)] == list(range(1, 51))
    assert led.verify().ok
    led.close()


def test_a_bad_event_in_any_chunk_names_its_position_and_nothing_lands(db_url: str) -> None:
    led = Ledger.open(db_url)
    good = NewEvent("decision.made", {"a": 1}, stream="detainer/D-1")
    with pytest.raises(InputError, match=r"^f\.jsonl:5: field 'stream':"):
        led.append_chunks([[good] * 3, [good, NewEvent("decision.made", {"a": 1}, stream="bad stream")]], source="f.jsonl")
    with pytest.raises(InputError, match=r"^event:2: field 'payload\.a': nan is not a JSON number"):
        led.append_many([good, NewEvent("decision.made", {"a": float("nan")}, stream="detainer/D-1")])
    assert led.size == 0 and list(led.events()) == []
    assert led.append_chunks([]) == (0, 0)
    led.close()


def test_stream_numbers_continue_across_chunks_and_many_streams(db_url: str) -> None:
    """More streams than one lookup query takes, streams that already exist, and streams split across chunks."""
    led = Ledger.open(db_url)
    led.append_many([NewEvent("decision.made", {"pre": i}, stream=f"detainer/S{i}") for i in range(0, 1500, 3)])
    chunk_a = [NewEvent("decision.made", {"a": i}, stream=f"detainer/S{i}") for i in range(1500)]
    chunk_b = [NewEvent("decision.made", {"b": i}, stream=f"detainer/S{i}") for i in range(0, 1500, 2)]
    led.append_chunks([chunk_a, chunk_b])
    for i in (0, 1, 2, 3, 6, 1497, 1499):
        numbers = [(e.stream_seq, sorted(e.payload)[0]) for e in led.events(stream=f"detainer/S{i}")]
        expected = ([(1, "pre")] if i % 3 == 0 else []) + [(len(numbers) - (1 if i % 2 == 0 else 0), "a")]
        if i % 2 == 0:
            expected.append((len(numbers), "b"))
        assert numbers == expected, i
    assert led.verify().ok
    led.close()


def test_batches_written_in_blocks_read_back_exactly_as_returned(db_url: str) -> None:
    """A batch of whole 100-row insert blocks plus a remainder: what append_many returns is what is stored."""
    led = Ledger.open(db_url)
    first = led.append("decision.made", {"n": 0, "cite": "8 U.S.C. § 1357(g)"}, stream="detainer/D-0")
    batch = [NewEvent("decision.made", {"n": i, "cite": "Tex. CCP art. 2.251 §(b)"}, stream=f"detainer/D-{i % 7}",
                      caused_by=first.seq if i % 5 == 0 else None) for i in range(1, 251)]
    returned = led.append_many(batch)
    assert [e.seq for e in returned] == list(range(2, 252))
    assert list(led.events(after_seq=1)) == returned
    assert returned[-1].chain_hash == led.get(251).chain_hash and led.verify().ok
    led.close()
