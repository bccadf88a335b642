"""`accord demo` end to end at a small scale: a verified ledger, figures recomputed from it, a report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger


def test_demo_records_decides_verifies_and_reports(tmp_path: Path):
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--scale", "0.04", "--seed", "3"])
    assert res.exit_code == 0, res.output
    assert "published vs recomputed" in res.output
    with Ledger.open(f"sqlite:///{tmp_path / 'accord.db'}") as led:
        assert led.verify().ok
        detainers = list(led.events(kind="detainer.received"))
        decisions = list(led.events(kind="decision.made"))
        assert len(detainers) == len(decisions) > 300
        by_seq = {e.seq: e for e in detainers}
        for d in decisions:  # every decision is caused by its detainer
            assert by_seq[d.caused_by].payload["request_id"] == d.payload["request_id"]
        _record_requests_are_as_the_gateway_writes_them(led)
        causes = {e.seq: e.kind for e in led.events() if e.kind in ("detainer.received", "record.requested")}
        for notice in led.events(kind="notice.due"):  # owed because of the request, as the CLI records it
            assert causes.get(notice.caused_by) in ("detainer.received", "record.requested")
        with_notice = next(d for d in decisions if d.payload.get("notices"))
    res = CliRunner().invoke(app, ["explain", str(with_notice.seq), "--db", f"sqlite:///{tmp_path / 'accord.db'}"])
    assert res.exit_code == 0, res.output
    assert "Notices the law requires" in res.output and with_notice.payload["notices"][0]["kind"] in res.output
    report = tmp_path / "report" / "report.html"
    assert report.is_file() and report.stat().st_size > 10_000
    figures = json.loads((tmp_path / "report" / "published_vs_recomputed.json").read_text())
    assert figures, "the published-vs-recomputed table is written beside the report"


def test_demo_refuses_a_store_that_is_not_empty(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with Ledger.open(url) as led:
        led.append("agency.registered", {"agency_id": "x", "name": "X", "kind": "police", "jurisdiction": "US-NY"})
    res = CliRunner().invoke(app, ["demo", "--out", str(tmp_path / "o"), "--scale", "0.01", "--db", url])
    assert res.exit_code == 2
    assert "empty store" in res.output


def _record_requests_are_as_the_gateway_writes_them(led: Ledger) -> None:
    """The demo's record requests land as ``accord access check`` would write them (same payloads, ids, causes)."""
    from accord.access.owed import notices_for
    from accord.access.gateway import Gateway
    from accord.access.model import AccessRequest
    from accord.domain import Agency, RecordRequest

    agencies = {e.payload["agency_id"]: Agency.model_validate_json(e.payload_json) for e in led.events(kind="agency.registered")}
    requested = {e.seq: RecordRequest.model_validate_json(e.payload_json) for e in led.events(kind="record.requested")}
    decided = list(led.events(kind="access.decided"))
    due = {e.payload["notice_id"]: e for e in led.events(kind="notice.due")}
    assert len(decided) == len(requested) > 0
    gateway = Gateway("ny_dmv")
    for event in decided[:200]:
        request = requested[event.caused_by]
        decision = gateway.check(AccessRequest(request=request, requester=agencies[request.requester_agency_id]))
        assert event.payload == decision.ledger_payload()
        for notice in notices_for(decision):
            assert due[notice.notice_id].caused_by == event.caused_by  # a notice is owed because of the request
            assert due[notice.notice_id].payload == json.loads(notice.model_dump_json())
