"""The doubts DOMAIN.md records are pack parameters: flipping one changes the answer, as documented."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import yaml

from accord.law import decide, load_pack
from accord.law.pack import PACK_DIR, build_pack


def _variant(pack_id: str, **values) -> object:
    raw = yaml.safe_load((PACK_DIR / f"{pack_id}.yaml").read_text())
    raw = copy.deepcopy(raw)
    for name, value in values.items():
        raw["parameters"][name]["values"] = [{"from": raw["parameters"][name]["values"][0]["from"], "value": value}]
    return build_pack(raw)


def _facts(day: date, **kw) -> dict:
    received = datetime(day.year, day.month, day.day, 17, tzinfo=timezone.utc)
    base = {"form": "I-247A", "issuing_component": "ICE", "requests_hold": True, "requests_notify": True, "requests_transfer": True,
            "received_at": received, "arrested_at": received, "judicial_warrant_judge_kind": "none", "judicial_warrant_basis": "none",
            "judicial_pc_determination_only": False, "served_on_subject": True, "terrorist_screening_match": False,
            "nyc_violent_or_serious_ever": True, "nyc_vs_lookback_from": date(2022, 1, 1), "issued_on": day,
            "form_in_use_on_issue": True}
    return base | kw


def test_every_doubtful_parameter_has_a_legal_note():
    for pack_id in ("nyc_doc", "nyc_nypd", "california", "texas", "cook_county", "federal_baseline"):
        for p in load_pack(pack_id).parameters.values():
            assert p.reference
    doubts = {"nyc_doc": ["transfer_requires_judicial_warrant", "info_sharing_lookback_applies", "ll2014_effective_date"],
              "nyc_nypd": ["reentry_exception_in_force"], "california": ["sb54_effective_date", "prop47_bars_all_cooperation"],
              "texas": ["cbp_detainers_covered"], "cook_county": ["amendment_2023_adopted"], "federal_baseline": ["hold_clock_mode"]}
    for pack_id, names in doubts.items():
        for n in names:
            assert load_pack(pack_id).parameters[n].legal_note, (pack_id, n)


def test_nyc_transfer_without_judicial_warrant_under_docs_reading():
    f = _facts(date(2024, 3, 5))
    assert decide(f, load_pack("nyc_doc"), date(2024, 3, 5)).outcome("transfer_at_release").value == "deny"
    assert decide(f, _variant("nyc_doc", transfer_requires_judicial_warrant=False), date(2024, 3, 5)).outcome("transfer_at_release").value == "allow"


def test_texas_cbp_coverage_switch():
    f = _facts(date(2021, 3, 1), issuing_component="CBP", status_proof_presented=False)
    assert decide(f, load_pack("texas"), date(2021, 3, 1)).outcome("hold_past_release").value == "allow"
    assert decide(f, _variant("texas", cbp_detainers_covered=True), date(2021, 3, 1)).outcome("hold_past_release").value == "require"


def test_sb54_effective_date_moves_the_pack_start():
    later = _variant("california", sb54_effective_date="2018-01-04")
    assert later.effective_from == date(2018, 1, 4)
    import pytest

    from accord.law import LawDateError

    with pytest.raises(LawDateError):
        decide(_facts(date(2018, 1, 2)), later, date(2018, 1, 2))


def test_federal_clock_mode_switch_changes_the_deadline():
    eligible = datetime(2024, 6, 14, 22, 0, tzinfo=timezone.utc)  # Friday evening
    f = _facts(date(2024, 6, 14), release_eligible_at=eligible)
    clock = decide(f, load_pack("federal_baseline"), date(2024, 6, 14)).hold_until
    business = decide(f, _variant("federal_baseline", hold_clock_mode="excluding_weekends_holidays"), date(2024, 6, 14)).hold_until
    assert clock.isoformat() == "2024-06-16T18:00:00-04:00" and business.isoformat() == "2024-06-18T18:00:00-04:00"


def test_cook_2023_amendment_switch():
    f = _facts(date(2024, 2, 1), judicial_warrant_judge_kind="state", judicial_warrant_basis="state_criminal")
    assert decide(f, load_pack("cook_county"), date(2024, 2, 1)).outcome("share_info").value == "allow"
    d = decide(f, _variant("cook_county", amendment_2023_adopted=True), date(2024, 2, 1)).decisions
    assert d[next(a for a in d if a.value == "share_info")].citation == "Cook County Code §46-37(e) (2023 proposal)"
