"""Reports and what-if on every ledger the project's own commands write, not only the demo's.

Each ledger is written the way a person would (``accord decide --record``, ``accord access check``,
``accord access check-batch``, ``accord ingest`` of JSON Lines and CSV, the demo, a mix, one event,
none, an event kind no report knows), then ``accord report build`` / ``report verify`` /
``accord simulate`` run on it. Figures are asserted: the report's totals equal the number of events
of each kind (built with threshold 1, so nothing is suppressed).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from accord.cli import app

runner = CliRunner()
CASE = Path(__file__).parents[2] / "src" / "accord" / "law" / "examples" / "nyc_case.json"
ICE = {"agency_id": "ice-ero", "name": "ICE ERO", "kind": "immigration_enforcement", "jurisdiction": "US",
       "primarily_enforces_immigration": True}
POLICE = {"agency_id": "albany-pd", "name": "Albany PD", "kind": "police", "jurisdiction": "US-NY"}


def invoke(*args: str):
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res


def _request(rid: str, requester: dict, purpose: str = "criminal_immigration_enforcement", day: int = 15) -> dict:
    return {"request": {"request_id": rid, "requester_agency_id": requester["agency_id"], "custodian_agency_id": "ny-dmv",
                        "record_kind": "dmv_standard_license", "purpose": purpose, "subject_person_id": "person-3",
                        "requested_at": f"2021-06-{day:02d}T11:00:00-04:00"},
            "requester": requester}


def _case(request_id: str, jurisdiction: str = "US-NY-NYC", agency: str = "nyc-doc", suffix: str = "") -> dict:
    case = json.loads(CASE.read_text())
    case["detainer"]["request_id"] = request_id
    for part in ("detainer", "custody", "person"):
        case[part]["person_id"] = "p-" + request_id
    case["detainer"]["booking_id"] = case["custody"]["booking_id"] = "bk-" + request_id
    case["custody"]["jurisdiction"] = jurisdiction
    case["custody"]["agency_id"] = case["receiving_agency"]["agency_id"] = agency
    case["receiving_agency"]["jurisdiction"] = jurisdiction
    return case


def decide_record(url: str, tmp: Path, pack: str, case: dict) -> None:
    path = tmp / f"{case['detainer']['request_id']}.json"
    path.write_text(json.dumps(case))
    invoke("decide", "--pack", pack, str(path), "--record", "--db", url)


def access_check(url: str, tmp: Path, doc: dict) -> None:
    path = tmp / f"{doc['request']['request_id']}.json"
    path.write_text(json.dumps(doc))
    invoke("access", "check", str(path), "--db", url)


def ingest_jsonl(url: str, tmp: Path, name: str, records: list[dict]) -> None:
    path = tmp / f"{name}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    invoke("ingest", str(path), "--db", url)


def _ingested_records() -> list[dict]:
    """Bookings, detainers and releases as a jail's export might hold them: a detainer with no booking,
    a release with no detainer, a transfer, a lifted detainer, a notice due and sent."""
    jail = {"agency_id": "harris-so", "name": "Harris County Sheriff", "kind": "sheriff", "jurisdiction": "US-TX"}
    def booking(b: str, p: str) -> dict:
        return {"booking_id": b, "person_id": p, "jurisdiction": "US-TX", "agency_id": "harris-so", "facility": "Jail",
                "booked_at": "2024-02-01T10:00:00Z", "release_eligible_at": "2024-02-05T10:00:00Z"}
    def detainer(r: str, b: str, p: str) -> dict:
        return {"request_id": r, "person_id": p, "booking_id": b, "form": "I-247A", "issuing_agency_id": "ice",
                "issuing_component": "ICE", "issuing_office": "Houston Field Office", "issued_at": "2024-02-02T09:00:00Z",
                "received_at": "2024-02-02T10:00:00Z", "box1_hold_and_notify": True}
    return [
        {"kind": "agency.registered", "payload": jail},
        {"kind": "person.registered", "payload": {"person_id": "tx-p1"}},
        {"kind": "custody.booked", "payload": booking("tx-b1", "tx-p1")},
        {"kind": "detainer.received", "payload": detainer("tx-d1", "tx-b1", "tx-p1")},
        {"kind": "custody.released", "payload": {"booking_id": "tx-b1", "person_id": "tx-p1", "released_at": "2024-02-05T12:00:00Z",
                                                 "reason": "transferred_to_immigration", "detainer_request_id": "tx-d1"}},
        {"kind": "detainer.received", "payload": detainer("tx-d2", "tx-b-unbooked", "tx-p2")},
        {"kind": "custody.booked", "payload": booking("tx-b3", "tx-p3")},
        {"kind": "custody.released", "payload": {"booking_id": "tx-b3", "person_id": "tx-p3", "released_at": "2024-02-06T12:00:00Z",
                                                 "reason": "charges_dismissed"}},
        {"kind": "custody.booked", "payload": booking("tx-b4", "tx-p4")},
        {"kind": "detainer.received", "payload": detainer("tx-d4", "tx-b4", "tx-p4")},
        {"kind": "detainer.lifted", "payload": {"request_id": "tx-d4", "lifted_at": "2024-02-03T10:00:00Z"}},
        {"kind": "notice.due", "payload": {"notice_id": "tx-n1", "kind": "hold_expiry", "recipient": "custodian",
                                           "about_request_id": "tx-d1", "due_by": "2024-02-07T10:00:00Z", "citation": "8 C.F.R. §287.7(d)"}},
        {"kind": "notice.sent", "payload": {"notice_id": "tx-n1", "sent_at": "2024-02-06T10:00:00Z"}},
    ]


def _ingest_csv(url: str, tmp: Path) -> None:
    path = tmp / "requests.csv"
    rows = ["request_id,requester_agency_id,custodian_agency_id,record_kind,purpose,requested_at",
            "csv-r1,albany-pd,ny-dmv,dmv_standard_license,traffic_safety,2022-01-03T10:00:00Z",
            "csv-r2,unknown-agency,ny-dmv,dmv_photo,criminal_investigation,2022-01-04T10:00:00Z"]
    path.write_text("\n".join(rows) + "\n")
    invoke("ingest", str(path), "--kind", "record.requested", "--db", url)


def write_ledger(how: str, url: str, tmp: Path) -> None:
    """Write the ledger ``how`` names through the real commands (the demo through ``run_demo``)."""
    if how == "empty":
        invoke("init", "--db", url)
    elif how == "decide":
        decide_record(url, tmp, "nyc_doc", _case("det-nyc-0001"))
    elif how == "access_check":
        access_check(url, tmp, _request("R-1", ICE))
    elif how == "check_batch":
        path = tmp / "batch.jsonl"
        docs = [_request(f"B-{i}", ICE if i % 2 else POLICE, "criminal_investigation" if i % 3 else "civil_immigration_enforcement", day=1 + i)
                for i in range(7)]
        path.write_text("".join(json.dumps(d) + "\n" for d in docs))
        invoke("access", "check-batch", str(path), "--db", url, "--workers", "0")
    elif how == "ingest":
        ingest_jsonl(url, tmp, "jail", _ingested_records())
        _ingest_csv(url, tmp)
    elif how == "one_event":
        ingest_jsonl(url, tmp, "one", [_ingested_records()[5]])
    elif how == "mixed":
        decide_record(url, tmp, "nyc_doc", _case("mix-nyc"))
        decide_record(url, tmp, "texas", _case("mix-tx", "US-TX-HAR", "harris-so"))
        decide_record(url, tmp, "california", _case("mix-ca", "US-CA-LAC", "lasd"))
        access_check(url, tmp, _request("mix-R1", ICE))
        access_check(url, tmp, _request("mix-R2", POLICE, "traffic_safety"))
        ingest_jsonl(url, tmp, "jail", _ingested_records())
        from accord.ledger import Ledger

        with Ledger.open(url) as led:  # a kind a future service may write: skipped and counted, never a crash
            led.append("service.heartbeat", {"at": "2024-01-01T00:00:00Z"}, stream="service/main")
    elif how == "demo":
        from accord.demo import run_demo

        run_demo(tmp / "demo", scale=0.01, db=url)
    else:  # pragma: no cover
        raise AssertionError(how)


def _events(url: str) -> dict[str, int]:
    from accord.ledger import Ledger

    with Ledger.open(url, create=False) as led:
        counts: dict[str, int] = {}
        for ev in led.events():
            counts[ev.kind] = counts.get(ev.kind, 0) + 1
        return counts


def _total(out: Path, table: str, column: str) -> int:
    frame = pl.read_csv(out / f"{table}.csv")
    body = frame.filter(pl.col(frame.columns[0]) != "Total")
    return int(body[column].sum() or 0)


LEDGERS = ["empty", "decide", "access_check", "check_batch", "ingest", "one_event", "mixed", "demo"]


@pytest.mark.parametrize("how", LEDGERS)
def test_report_and_whatif_on_every_kind_of_ledger(how: str, db_url: str, tmp_path: Path):
    write_ledger(how, db_url, tmp_path)
    events = _events(db_url)
    out = tmp_path / "report"
    res = invoke("report", "build", "--db", db_url, "--out", str(out), "--threshold", "1")
    assert "Traceback" not in res.output
    # figures: each table counts the events of its kind
    assert _total(out, "detainers_by_period", "received") == events.get("detainer.received", 0)
    assert _total(out, "detainers_by_office", "received") == events.get("detainer.received", 0)
    assert _total(out, "record_requests", "requests") == events.get("record.requested", 0)
    assert _total(out, "record_requests_by_record", "requests") == events.get("record.requested", 0)
    assert _total(out, "notices_timeliness", "owed") == events.get("notice.due", 0)
    assert _total(out, "notices_timeliness", "sent_on_time") + _total(out, "notices_timeliness", "sent_late") == events.get("notice.sent", 0)
    decided = _total(out, "record_requests", "allowed") + _total(out, "record_requests", "denied")
    assert decided == events.get("access.decided", 0)
    html = (out / "report.html").read_text()
    if how == "empty":
        assert "Nothing to report" in html
    res = invoke("report", "verify", str(out), "--db", db_url)
    assert "differ" not in res.output
    # what-if on the same ledger
    res = invoke("simulate", "--history", db_url, "--pack", "texas", "--against", "nyc_doc")
    assert "Traceback" not in res.output


def test_decide_record_ledger_reports_the_readme_example(sqlite_url: str, tmp_path: Path):
    """README's own example: ``decide --record`` then ``report build`` (a KeyError before)."""
    invoke("decide", "--pack", "nyc_doc", str(CASE), "--record", "--db", sqlite_url)
    out = tmp_path / "out"
    invoke("report", "build", "--db", sqlite_url, "--out", str(out))
    detainers = pl.read_csv(out / "detainers_by_period.csv")
    assert "2024-03" in detainers["period"].to_list()
    # the booking was never recorded: the jurisdiction is the deciding pack's, the agency unknown
    from accord.ledger import Ledger
    from accord.reports.ledger_rows import read_ledger

    with Ledger.open(sqlite_url) as led:
        rows = read_ledger(led)
    d = rows.tables["detainers"].row(0, named=True)
    assert d["jurisdiction"] == "US-NY-NYC" and d["receiving_agency_id"] is None
    assert d["nyc_violent_or_serious_ever"] is True  # a fact the decision read, as the law saw it
    assert d["felony_conviction_ever"] is None  # not read by the decision, not in the ledger: unknown
    assert any("no booking" in what for what, _ in rows.gaps)
    assert "no booking" in (out / "report.html").read_text()


def test_unknown_event_kinds_are_skipped_and_counted(sqlite_url: str, tmp_path: Path):
    from accord.ledger import Ledger
    from accord.reports.ledger_rows import FOLDS, read_ledger

    ingest_jsonl(sqlite_url, tmp_path, "jail", _ingested_records())
    with Ledger.open(sqlite_url) as led:
        led.append("service.heartbeat", {"at": "x"}, stream="service/main")
        led.append("import.public_row", {"row": 1}, stream="import/one")
        rows = read_ledger(led)
    assert rows.skipped == {"service.heartbeat": 1, "import.public_row": 1}
    assert rows.events == len(_ingested_records()) + 2
    assert "service.heartbeat" not in FOLDS
    d = rows.tables["detainers"].sort("detainer_id")
    assert d["disposition"].to_list() == ["transferred", "pending", "lifted"]
    assert d.filter(pl.col("detainer_id") == "tx-d2")["release_eligible_at"].item() is None
    assert ("releases with no detainer (nothing to count)", 1) in rows.gaps


def test_a_new_kind_is_mapped_by_adding_one_fold(sqlite_url: str):
    from accord.ledger import Ledger
    from accord.reports import ledger_rows

    with Ledger.open(sqlite_url) as led:
        led.append("detainer.received", _ingested_records()[5]["payload"], stream="detainer/tx-d2")
        led.append("test.detainer_withdrawn", {"request_id": "tx-d2", "lifted_at": "2024-02-03T00:00:00Z"}, stream="detainer/tx-d2")
        try:
            ledger_rows.folds("test.detainer_withdrawn")(ledger_rows.FOLDS["detainer.lifted"])
            rows = ledger_rows.read_ledger(led)
        finally:
            ledger_rows.FOLDS.pop("test.detainer_withdrawn")
    assert rows.skipped == {}
    assert rows.tables["detainers"]["disposition"].to_list() == ["lifted"]


def test_empty_ledger_report_says_nothing_to_report(sqlite_url: str, tmp_path: Path):
    invoke("init", "--db", sqlite_url)
    res = invoke("report", "build", "--db", sqlite_url, "--out", str(tmp_path / "r"))
    assert "Nothing to report" in res.output
