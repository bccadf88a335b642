"""Memoised Cedar answers: a gateway that reuses answers decides exactly as one that asks Cedar every time."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import cedarpy
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.access.packs import load_pack, request_time_only_compared
from helpers.packs import one_file_pack
from accord.domain.enums import JudgeKind, LegalProcessKind, RecordKind, RequestPurpose

NY = ZoneInfo("America/New_York")
# Law changes (14 Dec 2019, 3 Apr 2020, 1 Jul 2023), clock changes (14 Mar, 7 Nov 2021) and days inside a window.
DAYS = [date(2019, 12, 13), date(2019, 12, 14), date(2020, 4, 2), date(2020, 4, 3), date(2020, 9, 1), date(2021, 3, 14),
        date(2021, 11, 7), date(2022, 6, 30), date(2023, 7, 1)]
CERT = "ny_vtl_201_12_b_no_immigration_use"
KINDS = [k.value for k in RecordKind]


def _moments(day: date) -> list[datetime]:
    """Local midnight of ``day`` (when a certificate or agreement dated that day starts) and either side of it."""
    midnight = datetime.combine(day, time(), NY)
    return [midnight - timedelta(seconds=1), midnight, midnight + timedelta(seconds=1), midnight + timedelta(hours=13)]


MOMENTS = [m for d in DAYS for m in _moments(d)]

# Certificates and agreements start and end on the days whose midnights the requests fall around,
# so a request's time lands just before, at and after each of those instants.
agency = st.fixed_dictionaries({
    "kind": st.sampled_from(["immigration_enforcement", "police", "prosecutor", "foreign_government"]),
    "signed": st.one_of(st.none(), st.sampled_from(DAYS)),
    "expires": st.one_of(st.none(), st.sampled_from(DAYS)),
    "agreement": st.one_of(st.none(), st.tuples(st.sampled_from(DAYS), st.one_of(st.none(), st.sampled_from(DAYS)))),
})
request = st.fixed_dictionaries({
    "agency": st.integers(0, 5),
    "at": st.sampled_from(MOMENTS),
    "kind": st.sampled_from(KINDS),
    "action": st.sampled_from(["read", "bulk_read", "photo_match"]),
    "purpose": st.sampled_from([p.value for p in RequestPurpose]),
    "process": st.one_of(st.none(), st.tuples(st.sampled_from([k.value for k in LegalProcessKind]),
                                               st.sampled_from([j.value for j in JudgeKind]), st.booleans())),
    "impede": st.booleans(),
})


def _agency(i: int, a: dict, custodian: str) -> dict:
    doc = {"agency_id": f"a-{i}", "name": "A", "kind": a["kind"], "jurisdiction": "US-NY",
           "primarily_enforces_immigration": a["kind"] == "immigration_enforcement", "certifications": [], "agreements": []}
    if a["signed"] is not None:
        cert = {"kind": CERT, "signed_on": a["signed"].isoformat()}
        if a["expires"] is not None and a["expires"] > a["signed"]:
            cert["expires_on"] = a["expires"].isoformat()
        doc["certifications"].append(cert)
    if a["agreement"] is not None:
        start, end = a["agreement"]
        terms = {"kind": "data_sharing", "partner_agency_id": custodian, "effective_from": start.isoformat()}
        if end is not None and end > start:
            terms["effective_to"] = end.isoformat()
        doc["agreements"].append(terms)
    return doc


def _areq(n: int, r: dict, agencies: list[dict], custodian: str) -> AccessRequest:
    req = {"request_id": f"R-{n}", "requester_agency_id": f"a-{r['agency']}", "custodian_agency_id": custodian,
           "record_kind": r["kind"], "action": r["action"], "purpose": r["purpose"], "requested_at": r["at"].isoformat(),
           "subject_person_id": None if r["action"] == "bulk_read" else f"p-{n}"}
    if r["process"] is not None:
        kind, judge, specific = r["process"]
        req["legal_process"] = {"kind": kind, "judge_kind": judge, "specific_records_only": specific}
    doc = {"request": req, "requester": _agency(r["agency"], agencies[r["agency"]], custodian),
           "notice_would_impede_investigation": r["impede"]}
    return AccessRequest.model_validate_json(json.dumps(doc))


GATEWAYS = {name: Gateway(name) for name in ("ny_dmv", "ma_rmv", "certified_le_only")}  # memos live across examples
CUSTODIANS = {"ny_dmv": "ny-dmv", "ma_rmv": "ma-rmv", "certified_le_only": "custodian"}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(sorted(GATEWAYS)), agencies=st.lists(agency, min_size=6, max_size=6),
       reqs=st.lists(request, min_size=1, max_size=40), one_by_one=st.booleans())
def test_memoised_answers_equal_asking_cedar_every_time(pack: str, agencies: list[dict], reqs: list[dict],
                                                        one_by_one: bool) -> None:
    areqs = [_areq(n, r, agencies, CUSTODIANS[pack]) for n, r in enumerate(reqs)]
    memo = GATEWAYS[pack]
    fresh = Gateway(pack, memo=False)
    got = [memo.check(a) for a in areqs] if one_by_one else memo.check_many(areqs)
    assert got == fresh.check_many(areqs)


narrow = st.fixed_dictionaries({  # nothing varies but the requester and the time: the same key meets often
    "agency": st.integers(0, 1),
    "at": st.sampled_from(MOMENTS),
    "kind": st.just("dmv_standard_license"),
    "action": st.just("read"),
    "purpose": st.just("criminal_investigation"),
    "process": st.none(),
    "impede": st.just(False),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(sorted(GATEWAYS)), agencies=st.lists(agency, min_size=6, max_size=6),
       reqs=st.lists(narrow, min_size=20, max_size=60))
def test_requests_that_differ_only_in_time_are_decided_by_their_own_time(pack: str, agencies: list[dict],
                                                                        reqs: list[dict]) -> None:
    areqs = [_areq(n, r, agencies, CUSTODIANS[pack]) for n, r in enumerate(reqs)]
    memo = Gateway(pack)
    got = memo.check_many(areqs[: len(areqs) // 2]) + [memo.check(a) for a in areqs[len(areqs) // 2:]]
    assert got == Gateway(pack, memo=False).check_many(areqs)


def test_the_memo_is_used(monkeypatch) -> None:
    """Not a test that cannot fail: the memoised gateway really asks Cedar less often."""
    calls = []
    real = cedarpy.is_authorized_batch

    def counting(batch, *args, **kwargs):
        calls.append(len(batch))
        return real(batch, *args, **kwargs)

    monkeypatch.setattr(cedarpy, "is_authorized_batch", counting)
    agencies = [{"kind": "police", "signed": date(2020, 1, 2), "expires": None, "agreement": None}] * 6
    r = {"agency": 1, "at": datetime(2021, 5, 5, 12, tzinfo=NY), "kind": "dmv_photo", "action": "read",
         "purpose": "criminal_investigation", "process": None, "impede": False}
    areqs = [_areq(n, {**r, "at": r["at"] + timedelta(minutes=n)}, agencies, "ny-dmv") for n in range(50)]
    gw = Gateway("ny_dmv")
    gw.check_many(areqs[:25])
    first = sum(calls)
    gw.check_many(areqs[25:])
    assert first == 2 and sum(calls) == first  # one decision and one owe_notices question for all 50


POLICY = 'permit (principal, action, resource) when {{ {} }};'


@pytest.mark.parametrize("condition, memoisable", [
    ("principal.certifications.x.signed_on <= context.request_time", True),
    ("context.request_time < context.agreement.effective_to", True),
    ("context has request_time && context.purpose == \"x\"", True),
    ("context.request_time.toDate() == principal.certifications.x.signed_on", False),
    ("context.request_time.offset(duration(\"1d\")) > principal.x", False),
    ("context.request_time > datetime(\"2020-01-01\")", False),
    ("principal.x == datetime(\"2020-01-01\")", False),
    ("context.request_time == context.request_time", False),
    ("[context.request_time].contains(principal.x)", False),
])
def test_the_memo_is_only_for_policies_that_compare_the_time_with_attributes(condition: str, memoisable: bool) -> None:
    est = json.loads(cedarpy.policies_to_json_str(POLICY.format(condition)))["staticPolicies"]
    assert request_time_only_compared(list(est.values())) is memoisable


def test_every_shipped_window_is_memoisable() -> None:
    for name in ("ny_dmv", "ma_rmv", "certified_le_only"):
        assert all(w.decisions_memoisable for w in load_pack(name).windows), name


def test_a_pack_the_memo_cannot_reason_about_is_asked_every_time(tmp_path: Path) -> None:
    d = one_file_pack(
        tmp_path,
        '@id("t.after") @citation("c") @explanation("e") @effective_from("2000-01-01")\n'
        'permit (principal, action in Accord::Action::"access", resource)\n'
        'when { principal.certifications has ny_vtl_201_12_b_no_immigration_use &&\n'
        '       context.request_time.toDate() > principal.certifications.ny_vtl_201_12_b_no_immigration_use.signed_on };\n',
        name="dated")
    pack = load_pack(str(d))
    assert not pack.window(date(2020, 1, 3)).decisions_memoisable
    agencies = [{"kind": "police", "signed": date(2020, 1, 2), "expires": None, "agreement": None}] * 6
    base = {"agency": 0, "kind": "dmv_photo", "action": "read", "purpose": "criminal_investigation", "process": None,
            "impede": False}
    areqs = [_areq(n, {**base, "at": m}, agencies, "ny-dmv") for n, m in enumerate(_moments(date(2020, 1, 3)))]
    assert Gateway(pack).check_many(areqs) == Gateway(pack, memo=False).check_many(areqs)
