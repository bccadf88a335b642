"""A batch of requests, decisions and notices is one transaction: a failure anywhere leaves nothing."""

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import accord.service.access_events as audit
from accord.service.access_events import record_decision, record_decisions
from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.errors import InputError
from accord.ledger import Ledger
from accord.ledger.writer import ChainWriter

NY = ZoneInfo("America/New_York")
ICE = {"agency_id": "ice-ero", "name": "ICE ERO", "kind": "immigration_enforcement", "jurisdiction": "US",
       "primarily_enforces_immigration": True}
WARRANT = {"kind": "judicial_warrant", "judge_kind": "article_iii"}


def _areq(rid: str, warrant: bool = False, day: int = 15) -> AccessRequest:
    req = {"request_id": rid, "requester_agency_id": "ice-ero", "custodian_agency_id": "ny-dmv",
           "record_kind": "dmv_standard_license", "purpose": "criminal_immigration_enforcement",
           "subject_person_id": "person-3", "requested_at": datetime(2021, 6, day, 11, tzinfo=NY).isoformat()}
    if warrant:
        req["legal_process"] = WARRANT
    return AccessRequest.model_validate_json(json.dumps({"request": req, "requester": ICE}))


def _batch(n: int) -> list[tuple[AccessRequest, object]]:
    gw = Gateway("ny_dmv")
    reqs = [_areq(f"R-{i}", warrant=bool(i % 2), day=1 + i) for i in range(n)]
    return list(zip(reqs, gw.check_many(reqs)))


def _kinds(led: Ledger) -> list[str]:
    return [e.kind for e in led.events()]


def test_a_crash_while_writing_the_decisions_leaves_no_request_behind(db_url: str, monkeypatch) -> None:
    pairs = _batch(6)
    with Ledger.open(db_url) as led:
        before_req = _areq("R-before")
        record_decision(led, before_req, Gateway("ny_dmv").check_many([before_req])[0])  # something committed before stays
        before = _kinds(led)
        real = ChainWriter._insert_events

        def insert_then_crash(self, columns, *how):
            real(self, columns, *how)  # the rows are in the open transaction ...
            if "access.decided" in columns[3]:  # the kinds' column
                raise OSError("disk gone")  # ... when the writer dies

        monkeypatch.setattr(ChainWriter, "_insert_events", insert_then_crash)
        with pytest.raises(OSError):
            record_decisions(led, pairs)
        monkeypatch.undo()
        assert _kinds(led) == before
        assert led.verify().ok
        # The same batch goes in whole afterwards: one request event per decision, none orphaned.
        recs = record_decisions(led, pairs)
        requested = {e.seq for e in led.events(kind="record.requested")}
        decided_causes = {e.caused_by for e in led.events(kind="access.decided")}
        assert requested == decided_causes and {r.requested_seq for r in recs} <= requested


def test_a_bad_event_in_the_middle_of_a_batch_leaves_nothing(db_url: str, monkeypatch) -> None:
    pairs = _batch(5)
    real = audit.notices_for

    def third_is_bad(decision):
        notices = real(decision)
        return [object()] if decision.request_id == "R-2" else notices  # not a payload the ledger takes

    monkeypatch.setattr(audit, "notices_for", third_is_bad)
    with Ledger.open(db_url) as led:
        with pytest.raises(InputError) as err:
            record_decisions(led, pairs)
        assert err.value.field == "payload"
        assert led.size == 0


def test_stored_and_new_requests_mix_in_one_batch(db_url: str) -> None:
    pairs = _batch(4)
    with Ledger.open(db_url) as led:
        first = record_decision(led, *pairs[1])
        recs = record_decisions(led, pairs, [None] * 4)  # looked up: R-1 is reused, the rest appended
        assert recs[1].requested_seq == first.requested_seq
        assert len(list(led.events(kind="record.requested"))) == 4
        for (areq, decision), rec in zip(pairs, recs):
            requested, decided = led.get(rec.requested_seq), led.get(rec.decided_seq)
            assert requested.payload["request_id"] == areq.request.request_id
            assert decided.caused_by == rec.requested_seq and decided.payload == decision.ledger_payload()
            assert [led.get(s).caused_by for s in rec.notice_seqs] == [rec.requested_seq] * len(decision.notices())
        assert led.verify().ok
