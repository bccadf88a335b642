"""Record-access decisions applied as a batch write exactly what applying them one event at a time writes.

A batch of events (more than ``projector.BATCH_FROM``) is applied with the clocks collecting their
rows — the jobs each notice schedules (and the earlier ones a notice owed again cancels), the
messages and letters it owes and their deliveries — and writing them in a few statements
(``accord.clocks.batch``). Here a generated workload — requests under the New York and
Massachusetts packs, some decided again (in the same chunk or a later one), extra notices to the
person, the requesting agency and the custodian, webhook endpoints taking some message types only —
is appended in drawn chunks to one store and one event per transaction to another, at the same
frozen moment. The ledgers, the read models, the schedules and the outboxes come out equal, on
SQLite and on PostgreSQL. Rebuilding (``accord projections rebuild``) applies whole pages of events
at once: it gives the read model it rebuilt, and the clocks' rows a rebuild one event at a time gives.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accord.access.gateway import gateway_for
from accord.access.model import AccessRequest
from accord.access.packs import pack_for_custodian
from accord.clocks import schema as clocks
from accord.clocks.webhooks import register
from accord.ledger import BatchRef, NewEvent
from accord.service import projector
from accord.service import schema as rm
from accord.service.access_events import decision_events
from accord.service.store import Store
from helpers.stores import clocks_snapshot, fresh_database, rows
from helpers.service_world import ICE, POLICE, agency_actor, world

UTC = timezone.utc
T0 = datetime(2024, 11, 4, 15, 0, tzinfo=UTC)
AGENCIES = {
    ICE: {"agency_id": ICE, "name": "ICE ERO New York", "kind": "immigration_enforcement", "jurisdiction": "US",
          "primarily_enforces_immigration": True},
    POLICE: {"agency_id": POLICE, "name": "NYPD", "kind": "police", "jurisdiction": "US-NY-NYC",
             "certifications": [{"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2020-01-10"}]},
    "ice-unregistered": {"agency_id": "ice-unregistered", "name": "ICE", "kind": "immigration_enforcement",
                         "jurisdiction": "US", "primarily_enforces_immigration": True},
}

requests = st.fixed_dictionaries({
    "requester": st.sampled_from(sorted(AGENCIES)),
    "custodian": st.sampled_from(["ny-dmv", "ma-rmv"]),
    "record_kind": st.sampled_from(["dmv_standard_license", "dmv_photo", "dmv_original_documents"]),
    "action": st.sampled_from(["read", "photo_match", "bulk_read"]),
    "purpose": st.sampled_from(["criminal_investigation", "civil_immigration_enforcement",
                                "criminal_immigration_enforcement"]),
    "minutes": st.integers(0, 60 * 24 * 30),
    "warrant": st.booleans(),
})
#: One step of a workload: a new request, an earlier one decided again, or an extra notice about one.
steps = st.one_of(
    st.tuples(st.just("new"), requests),
    st.tuples(st.just("again"), st.integers(0, 30)),
    st.tuples(st.just("notice"), st.integers(0, 30), st.sampled_from(["subject", "requesting_agency", "custodian"]),
              st.integers(1, 60 * 24 * 10), st.booleans()),
)
workloads = st.fixed_dictionaries({
    "steps": st.tuples(st.lists(st.tuples(st.just("new"), requests), min_size=1, max_size=12),
                       st.lists(steps, max_size=30)).map(lambda parts: parts[0] + parts[1]),
    "chunk": st.sampled_from([3, 25, 1000]),
    "ice_types": st.sampled_from([None, ["notice.*"], ["letter.*", "detainer.*"]]),
    "police_types": st.sampled_from([None, ["notice.subject_record_request"]]),
})


def _asks(requester: str, minutes: int) -> dict:
    return {"requester": requester, "custodian": "ny-dmv", "record_kind": "dmv_photo", "action": "read",
            "purpose": "criminal_investigation", "minutes": minutes, "warrant": False}


#: One chunk holding each case the batch must write as one event at a time would: a notice owed
#: again (its job scheduled in the same batch cancelled), letters, webhooks with deliveries, an
#: agency without endpoints and one whose endpoint does not take the type; then a later chunk that
#: owes the first chunk's notices again (stored jobs cancelled).
EVERY_CASE = {
    "steps": [("new", _asks(ICE, 0)), ("new", _asks(POLICE, 1)), ("new", _asks("ice-unregistered", 2)),
              ("again", 0), ("notice", 0, "requesting_agency", 60, True), ("notice", 1, "requesting_agency", 70, False),
              ("notice", 2, "requesting_agency", 80, True), ("notice", 0, "subject", 90, True),
              ("notice", 1, "custodian", 100, False), ("again", 2), ("new", _asks(ICE, 3)),
              ("again", 0), ("again", 2), ("notice", 3, "requesting_agency", 110, True)],
    "chunk": 11, "ice_types": ["notice.*"], "police_types": ["notice.subject_record_request"],
}


def _request(i: int, spec: dict) -> AccessRequest:
    req = {"request_id": f"R-{i}", "requester_agency_id": spec["requester"], "custodian_agency_id": spec["custodian"],
           "record_kind": spec["record_kind"], "action": spec["action"], "purpose": spec["purpose"],
           "subject_person_id": None if spec["action"] == "bulk_read" else f"p-{i}",
           "requested_at": (T0 - timedelta(days=400) + timedelta(minutes=spec["minutes"])).isoformat()}
    if spec["warrant"]:
        req["legal_process"] = {"kind": "judicial_warrant", "judge_kind": "article_iii"}
    return AccessRequest.model_validate_json(json.dumps({"request": req, "requester": AGENCIES[spec["requester"]]}))


def _chunks(workload: dict, seq: int) -> list[list[NewEvent]]:
    """The workload's events, chunk by chunk; a cause in the same chunk is a BatchRef, an earlier one a
    seq (the chunks are appended in order to a ledger of ``seq`` events)."""
    made: list[AccessRequest] = []
    where: dict[str, int | BatchRef] = {}  # request id -> its record.requested: stored seq or BatchRef
    out: list[list[NewEvent]] = []
    steps = workload["steps"]
    for s in range(0, len(steps), workload["chunk"]):
        events: list[NewEvent] = []
        for n, step in enumerate(steps[s:s + workload["chunk"]], s):
            if step[0] == "new":
                made.append(_request(len(made), step[1]))
                areq = made[-1]
            elif not made:
                continue
            else:
                areq = made[step[1] % len(made)]
            rid = areq.request.request_id
            cause = where.get(rid)
            if step[0] == "notice":
                if cause is None:
                    continue
                _, _, recipient, due_in, person = step
                events.append(NewEvent("notice.due", {
                    "notice_id": f"{rid}.extra-{n}", "kind": "subject_record_request", "recipient": recipient,
                    "person_id": f"p-{n}" if person else None, "about_request_id": rid,
                    "due_by": (T0 + timedelta(minutes=due_in)).isoformat(), "citation": "test"}, None, cause))
                continue
            decision = gateway_for(pack_for_custodian(areq.request.custodian_agency_id)).check(areq)
            new, _ = decision_events([(areq, decision)], [None if cause is None else 1])
            if cause is None:
                where[rid] = cause = BatchRef(len(events))
                events.append(new[0])
                new = new[1:]
            events += [NewEvent(e.kind, e.payload, e.stream, cause) for e in new]
        for i, ev in enumerate(events):  # what later chunks see: stored seqs
            if ev.kind == "record.requested":
                where[ev.payload.request_id] = seq + i + 1
        seq += len(events)
        out.append(events)
    return out


def _setup(store: Store, workload: dict) -> None:
    world(store)
    with store.transaction() as uow:
        register(uow, agency_actor(ICE, "admin"), "http://127.0.0.1:9/ice", event_types=workload["ice_types"],
                 allow_loopback=True)
        register(uow, agency_actor(POLICE, "admin"), "http://127.0.0.1:9/nypd", event_types=workload["police_types"],
                 allow_loopback=True)


def _batched(store: Store, chunks: list[list[NewEvent]]) -> None:
    for events in chunks:
        if events:
            with store.transaction() as uow:
                uow.append(events)


def _one_event_at_a_time(store: Store, chunks: list[list[NewEvent]]) -> None:
    for events in chunks:
        seqs: list[int] = []
        for ev in events:
            cause = ev.caused_by
            if isinstance(cause, BatchRef):
                cause = seqs[cause.index]
            with store.transaction() as uow:
                seqs.append(uow.append([NewEvent(ev.kind, ev.payload, ev.stream, cause)])[0].seq)


def _snapshot(store: Store) -> dict:
    """The ledger, the read model and everything the clocks wrote, with the ids that differ between two
    stores (the ledger's id is in a message's id; endpoint ids are random) replaced by what they stand for."""
    events = [(e.seq, e.kind, e.stream, e.stream_seq, e.caused_by, e.recorded_at, e.payload_json)
              for e in store.ledger.events()]
    with store.engine.connect() as conn:
        read_model = {t.name: sorted(tuple(r.values()) for r in rows(conn, t)) for t in rm.PROJECTION_TABLES}
        return {"events": events, **clocks_snapshot(conn), "read_model": read_model}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_batch_of_access_events_writes_what_one_event_at_a_time_writes(backend: str) -> None:
    if backend == "postgresql" and not os.environ.get("ACCORD_TEST_DATABASE_URL"):
        pytest.skip("ACCORD_TEST_DATABASE_URL is not set")

    @settings(max_examples=8 if backend == "postgresql" else 20, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(workload=workloads)
    @example(workload=EVERY_CASE)
    def check(workload: dict) -> None:
        got = {}
        for way, play in (("batched", _batched), ("one_by_one", _one_event_at_a_time)):
            with fresh_database(backend) as url, time_machine.travel(T0, tick=False), Store.open(url) as store:
                _setup(store, workload)
                chunks = _chunks(workload, store.ledger.size)
                play(store, chunks)
                got[way] = _snapshot(store)
                if way == "batched":
                    store.rebuild()  # pages of whole batches
                else:
                    with patch.object(projector, "BATCH_FROM", 10**9):  # one event at a time
                        store.rebuild()
                got[f"{way} rebuilt"] = _snapshot(store)
        for way, reference in (("batched", got["one_by_one"]), ("batched rebuilt", got["one_by_one rebuilt"])):
            for part in reference:
                assert got[way][part] == reference[part], (way, part)
        assert got["batched rebuilt"]["read_model"] == got["batched"]["read_model"]

    check()


def test_the_batch_path_is_the_one_taken(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The equality above compares two different paths: a chunk of notices is written by one batch."""
    from accord.clocks import batch

    opened: list[bool] = []
    real = batch.Batch.__init__

    def spy(self, conn, jobs=False):  # type: ignore[no-untyped-def]
        opened.append(jobs)
        real(self, conn, jobs)

    monkeypatch.setattr(batch.Batch, "__init__", spy)
    workload = {"steps": [("new", {"requester": ICE, "custodian": "ny-dmv", "record_kind": "dmv_photo", "action": "read",
                                   "purpose": "criminal_investigation", "minutes": i, "warrant": False}) for i in range(5)],
                "chunk": 1000, "ice_types": None, "police_types": None}
    with time_machine.travel(T0, tick=False), Store.open(sqlite_url) as store:
        _setup(store, workload)
        chunks = _chunks(workload, store.ledger.size)
        assert sum(len(c) for c in chunks) > projector.BATCH_FROM
        _batched(store, chunks)
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(clocks.jobs)).scalar() == 5
    assert opened == [True]


_texts = st.one_of(st.text(max_size=12), st.sampled_from(["N.Y. VTL §201(12)(a)", "2019-06-04T03:59:59.000000Z", "1.5e3"]))
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**53 - 1), 2**53 - 1), _texts)


@settings(max_examples=300, deadline=None)
@given(type_=st.sampled_from(["letter.subject_record_request", "notice.x", "alert.hold_warning"]),
       timestamp=st.sampled_from(["2026-12-03T13:09:29.123456Z", "2024-11-04T15:00:00.000000Z"]),
       data=st.dictionaries(_texts, st.one_of(_leaves, st.lists(_leaves, max_size=3),
                                              st.dictionaries(_texts, _leaves, max_size=3)), max_size=8))
def test_a_message_body_is_the_reference_canonical_json(type_: str, timestamp: str, data: dict) -> None:
    """The outbox writes each message body once, the bytes every retry signs: RFC 8785, as the reference writes it."""
    import rfc8785

    from accord.clocks.outbox import body

    assert body(type_, timestamp, data) == rfc8785.dumps({"type": type_, "timestamp": timestamp, "data": data}).decode()


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_read_model_columns_reach_the_driver_unchanged(dialect: str) -> None:
    """Projection.flush sends rows to the driver's executemany itself: right only while no column has a
    bind processor (SQLAlchemy would change the value on its way), on either dialect."""
    from sqlalchemy.dialects import postgresql, sqlite

    d = {"sqlite": sqlite.dialect(), "postgresql": postgresql.psycopg.dialect()}[dialect]
    for table in rm.PROJECTION_TABLES:
        for column in table.columns:
            assert column.type.dialect_impl(d).bind_processor(d) is None, (table.name, column.name)


_citations = st.text(max_size=8) | st.sampled_from(["N.Y. VTL §201(12)(a)", "\U0001f600", '"\\'])


@settings(max_examples=300, deadline=None)
@given(deciding=st.one_of(
    st.lists(st.dictionaries(st.sampled_from(["id", "effect", "citation"]), _citations), max_size=3),
    st.lists(st.dictionaries(st.text(max_size=3), st.one_of(st.none(), st.booleans(), st.integers(0, 2), _citations)),
             max_size=3),
    # not objects of text: numbers and lists among the items, lists as values (nothing to key on)
    st.lists(st.one_of(st.integers(0, 2), st.lists(st.integers(0, 1), max_size=2),
                       st.dictionaries(st.sampled_from(["id", "citation"]), st.lists(st.booleans(), max_size=2) | _citations,
                                       max_size=2)), max_size=3)))
def test_a_decisions_policies_are_stored_as_json_dumps_writes_them(deciding: list) -> None:
    assert projector._deciding_text(deciding) == json.dumps(deciding)
    assert projector._deciding_text(deciding) == json.dumps(deciding)  # and again, from the kept text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(workload=workloads, errors=st.lists(st.text(max_size=6) | st.just("\U0001f600 \ud800"), max_size=2),
       days=st.sampled_from([None, 3, 2**53, -5]))
def test_a_bulk_worker_prepares_what_the_ledger_prepares(workload: dict, errors: list, days: int | None) -> None:
    """A bulk worker writes each decision's canonical text itself; the ledger's prepare() gives the same
    (including odd payloads: error texts with astral characters or lone surrogates, huge day counts)."""
    from accord.errors import InputError
    from accord.ledger import prepare
    from accord.service.access_events import prepare_decision_events

    for events in _chunks(workload, 10):
        odd = []
        for ev in events:
            if ev.kind == "access.decided":
                payload = {**ev.payload, "errors": ev.payload["errors"] + errors}
                if days is not None and payload["obligations"]:
                    payload["obligations"] = [{**payload["obligations"][0], "days": days}, *payload["obligations"][1:]]
                ev = NewEvent(ev.kind, payload, ev.stream, ev.caused_by)
            odd.append(ev)
        for batch in (events, odd):
            try:
                expected = prepare(batch, source="request")
            except InputError as exc:
                with pytest.raises(InputError) as got:
                    prepare_decision_events(batch)
                assert str(got.value) == str(exc)
                continue
            assert prepare_decision_events(batch) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(specs=st.lists(requests, min_size=1, max_size=12),
       errors=st.lists(st.text(max_size=6) | st.just("\U0001f600 \ud800"), max_size=2),
       days=st.sampled_from([None, 3, 2**53, -5]), odd=st.lists(st.booleans(), max_size=12))
def test_decisions_prepared_in_one_pass_are_what_the_ledger_prepares(specs: list, errors: list, days: int | None,
                                                                     odd: list) -> None:
    """``prepare_decisions`` (the bulk workers' and ``record_decisions``' path) gives the events and spots
    ``prepare(decision_events(...))`` gives, or None exactly where the ledger's prepare() refuses them."""
    from accord.errors import InputError
    from accord.ledger import prepare
    from accord.service.access_events import prepare_decisions

    pairs = []
    for i, spec in enumerate(specs):
        areq = _request(i, spec)
        decision = gateway_for(pack_for_custodian(areq.request.custodian_agency_id)).check(areq)
        if i < len(odd) and odd[i]:  # odd payloads: error texts with astral characters or lone surrogates, huge day counts
            update: dict = {"errors": decision.errors + tuple(errors)}
            if days is not None and decision.obligations:
                update["obligations"] = (decision.obligations[0].model_copy(update={"days": days}),
                                         *decision.obligations[1:])
            decision = decision.model_copy(update=update)
        pairs.append((areq, decision))
    events, spots = decision_events(pairs)
    try:
        expected = prepare(events, source="request")
    except InputError:
        assert prepare_decisions(pairs) is None
        return
    assert prepare_decisions(pairs) == (expected, spots)


_texts = st.text(max_size=6) | st.sampled_from(["R-1", "N.Y. VTL §201(12)(a)", "\U0001f600", '"\\', "\ud800"])
_refs = st.builds(lambda i, e, c: {"id": i, "effect": e, "citation": c}, _texts,
                  st.sampled_from(["permit", "forbid", "default_deny", "error"]), _texts)


@settings(max_examples=300, deadline=None)
@given(values=st.fixed_dictionaries({
    "request_id": _texts, "requester_agency_id": _texts, "custodian_agency_id": _texts, "record_kind": _texts,
    "action": _texts, "outcome": st.sampled_from(["allow", "deny"]), "pack": _texts, "pack_version": _texts,
    "as_of": st.dates(), "law_in_force_from": st.none() | st.dates(), "law_in_force_to": st.none() | st.dates(),
    "deciding": st.lists(_refs, max_size=3), "errors": st.lists(_texts, max_size=1)}),
    obligation=st.booleans(), again=st.booleans())
def test_a_decision_without_obligations_is_written_as_its_payload_is(values: dict, obligation: bool,
                                                                     again: bool) -> None:
    """The access.decided text written from a decision's fields (with the deciding policies' text kept per
    verdict) is the canonical text of its ledger payload, or None where that path does not apply."""
    from accord.access.model import AccessDecision, PolicyRef
    from accord.service.access_events import _decided_text, _plain_decision_text

    deciding = tuple(PolicyRef(**r) for r in values["deciding"])
    decision = AccessDecision.model_construct(**{**values, "deciding": deciding, "errors": tuple(values["errors"])})
    if obligation:
        gw = gateway_for(pack_for_custodian("ny-dmv"))
        owed = gw.check(_request(0, _asks(ICE, 0)))
        decision = decision.model_copy(update={"obligations": owed.obligations})
    text = _plain_decision_text(decision)
    if again:  # the verdict's text kept from the first call
        assert _plain_decision_text(decision.model_copy()) == text
    if decision.obligations or decision.errors:
        assert text is None
    elif text is not None:
        assert text == _decided_text(decision.ledger_payload())
    else:  # only what orjson refuses (a lone surrogate) is left to the general path
        assert _decided_text(decision.ledger_payload()) is None
