"""Decisions in the ledger: denied as surely as allowed, with notices caused by the request."""

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from accord.service.access_events import record_decision, record_decisions
from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.service.actors import Actor
from accord.service.notices import count_notices, list_notices, mark_sent
from accord.service.store import Store
from accord.cli import app
from accord.domain import Notice, RecordRequest
from accord.ledger import Ledger

NY = ZoneInfo("America/New_York")
ICE = {"agency_id": "ice-ero", "name": "ICE ERO", "kind": "immigration_enforcement", "jurisdiction": "US",
       "primarily_enforces_immigration": True}


def _doc(rid: str, process: dict | None = None, day: int = 15) -> dict:
    req = {"request_id": rid, "requester_agency_id": "ice-ero", "custodian_agency_id": "ny-dmv",
           "record_kind": "dmv_standard_license", "purpose": "criminal_immigration_enforcement",
           "subject_person_id": "person-3", "requested_at": datetime(2021, 6, day, 11, tzinfo=NY).isoformat()}
    if process:
        req["legal_process"] = process
    return {"request": req, "requester": ICE}


def _areq(*args, **kw) -> AccessRequest:
    return AccessRequest.model_validate_json(json.dumps(_doc(*args, **kw)))


WARRANT = {"kind": "judicial_warrant", "judge_kind": "article_iii"}


def test_denied_request_is_in_the_ledger_as_surely_as_an_allowed_one(db_url: str) -> None:
    gw = Gateway("ny_dmv")
    denied, allowed = _areq("R-deny"), _areq("R-allow", WARRANT)
    with Store.open(db_url) as store:
        led = store.ledger
        for areq in (denied, allowed):
            rec = record_decision(store, areq, gw.check(areq))
            requested, decided = led.get(rec.requested_seq), led.get(rec.decided_seq)
            assert requested.kind == "record.requested" and decided.kind == "access.decided"
            assert RecordRequest.model_validate_json(requested.payload_json) == areq.request
            assert decided.caused_by == rec.requested_seq and decided.stream == f"record/{areq.request.request_id}"
            assert decided.payload == gw.check(areq).ledger_payload()
            (notice_seq,) = rec.notice_seqs
            due = led.get(notice_seq)
            assert due.kind == "notice.due" and due.caused_by == rec.requested_seq
            assert Notice.model_validate_json(due.payload_json).about_request_id == areq.request.request_id
        outcomes = {e.payload["request_id"]: e.payload["outcome"] for e in led.events(kind="access.decided")}
        assert outcomes == {"R-deny": "deny", "R-allow": "allow"}
        assert led.verify().ok


def test_batched_recording_matches_one_by_one(db_url: str) -> None:
    gw = Gateway("ny_dmv")
    reqs = [_areq(f"R-{i}", WARRANT if i % 2 else None, day=1 + i) for i in range(6)]
    with Store.open(db_url) as store:
        led = store.ledger
        recs = record_decisions(store, list(zip(reqs, gw.check_many(reqs))))
        assert len({r.decided_seq for r in recs}) == 6
        assert [led.get(r.decided_seq).payload["request_id"] for r in recs] == [f"R-{i}" for i in range(6)]
        assert len(list(led.events(kind="notice.due"))) == 6


def test_recording_again_reuses_the_request_event(db_url: str) -> None:
    gw = Gateway("ny_dmv")
    areq = _areq("R-twice")
    with Store.open(db_url) as store:
        led = store.ledger
        first = record_decision(store, areq, gw.check(areq))
        second = record_decision(store, areq, gw.check(areq))
        assert second.requested_seq == first.requested_seq
        assert len(list(led.events(kind="record.requested"))) == 1


def test_notice_projection_counts_overdue_and_drops_sent(db_url: str) -> None:
    gw = Gateway("ny_dmv")
    at = datetime(2021, 6, 16, tzinfo=timezone.utc)
    me = Actor.operator()
    with Store.open(db_url, clock=lambda: at) as store:
        for day in (1, 10, 20):
            areq = _areq(f"R-{day}", day=day)
            record_decision(store, areq, gw.check(areq))
        with store.reading() as r:
            assert [n.about_request_id for n in list_notices(r, me)] == ["R-1", "R-10", "R-20"]
            assert [n.about_request_id for n in list_notices(r, me, overdue_at=at)] == ["R-1", "R-10"]
            assert [n.overdue for n in list_notices(r, me)] == [True, True, False]
        with store.transaction() as uow:
            mark_sent(uow, me, "R-1.subject_record_request", datetime(2021, 6, 3, tzinfo=timezone.utc))
        with store.reading() as r:
            assert [n.about_request_id for n in list_notices(r, me, overdue_at=at)] == ["R-10"]
            assert count_notices(r, me, at) == {"owed": 2, "overdue": 1, "sent": 1, "discharged": 0}


def test_cli_check_records_and_notices_due_and_sent(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    f = tmp_path / "req.json"
    f.write_text(json.dumps(_doc("R-cli")))
    res = runner.invoke(app, ["access", "check", str(f), "--db", db_url, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["outcome"] == "deny" and data["ledger"]["notice_seqs"]
    res = runner.invoke(app, ["notices", "due", "--db", db_url, "--as-of", "2021-06-30", "--overdue", "--json"])
    assert res.exit_code == 0, res.output
    due = json.loads(res.output)
    assert due["overdue"] == 1 and due["notices"][0]["notice_id"] == "R-cli.subject_record_request"
    res = runner.invoke(app, ["notices", "sent", "R-cli.subject_record_request", "--at", "2021-06-16T10:00:00Z", "--db", db_url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["notices", "due", "--db", db_url, "--as-of", "2021-06-30", "--json"])
    assert json.loads(res.output)["open"] == 0
    res = runner.invoke(app, ["notices", "sent", "no-such-notice", "--db", db_url])
    assert res.exit_code == 2 and "no notice.due event" in res.output


def test_cli_check_bad_input_names_the_field(tmp_path: Path) -> None:
    f = tmp_path / "req.json"
    doc = _doc("R-bad")
    doc["request"]["record_kind"] = "dmv_everything"
    f.write_text(json.dumps(doc))
    res = CliRunner().invoke(app, ["access", "check", str(f), "--no-record"])
    assert res.exit_code == 2
    assert "request.record_kind" in res.output and "Traceback" not in res.output


def test_cli_policies_lists_the_law_in_force(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["access", "policies", "--pack", "ny_dmv", "--as-of", "2019-12-01", "--json"])
    assert res.exit_code == 0, res.output
    assert [r["id"] for r in json.loads(res.output)] == ["ny.dppa.government_function"]
