"""Recording a decision is all or nothing: never a detainer in the ledger without its decision."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.errors import InputError
from accord.law import load_pack
from accord.law.case import DetainerCase
from accord.law.engine import decide
from accord.service.detainer_events import record_decision
from accord.service.store import Store

EXAMPLE = Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json"


def _case() -> DetainerCase:
    return DetainerCase.model_validate_json(EXAMPLE.read_text())


def test_new_detainer_decision_and_notices_land_together(db_url):
    case = _case()
    decision = decide(case, load_pack("california"))
    with Store.open(db_url) as store:
        led = store.ledger
        det, dec, notices = record_decision(store, case, decision)
        assert det.kind == "detainer.received" and dec.kind == "decision.made"
        assert dec.caused_by == det.seq and all(n.caused_by == det.seq for n in notices)
        assert [e.seq for e in (det, dec, *notices)] == list(range(det.seq, det.seq + 2 + len(notices)))
        assert led.verify().ok


def test_a_failure_while_writing_the_decision_leaves_no_detainer(db_url, monkeypatch):
    case = _case()
    decision = decide(case, load_pack("nyc_doc"))
    # A payload the ledger refuses (a float that is not finite has no canonical JSON form).
    monkeypatch.setattr(type(decision), "to_payload", lambda self: {"bad": float("nan")})
    with Store.open(db_url) as store:
        led = store.ledger
        with pytest.raises(InputError, match="payload.bad"):
            record_decision(store, case, decision)
        assert list(led.events()) == []
