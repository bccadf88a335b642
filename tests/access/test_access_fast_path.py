"""The fast path (schema checked once per context shape, memo on) decides exactly as the validated path.

The validated path sends the schema with every Cedar question and memoises nothing it may not; the
fast path is what the gateway ships. On generated requests both give the same decisions (outcome,
deciding policies, obligations, errors) and so the same ledger events, byte for byte.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, time
from zoneinfo import ZoneInfo

import cedarpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.access.gateway import Gateway, context_shape
from accord.access.model import AccessRequest
from accord.domain.enums import JudgeKind, LegalProcessKind, RecordKind, RequestPurpose
from accord.ledger import prepare
from accord.service.access_events import decision_events

NY = ZoneInfo("America/New_York")
CUSTODIANS = {"ny_dmv": "ny-dmv", "ma_rmv": "ma-rmv", "certified_le_only": "custodian"}
# Around the law's changes (14 Dec 2019, 3 Apr 2020, 1 Jul 2023) and a clock change (7 Nov 2021).
DAYS = [date(2019, 12, 13), date(2019, 12, 14), date(2020, 4, 3), date(2021, 11, 7), date(2023, 7, 1)]
MOMENTS = [datetime.combine(d, time(), NY) + timedelta(seconds=s) for d in DAYS for s in (-1, 0, 1, 13 * 3600)]

agency = st.fixed_dictionaries({
    "kind": st.sampled_from(["immigration_enforcement", "police", "sheriff", "prosecutor", "foreign_government",
                             "courts"]),
    "jurisdiction": st.sampled_from(["US", "US-NY", "US-NY-NYC", "US-MA", "CA"]),
    "certs": st.lists(st.tuples(st.sampled_from(["ny_vtl_201_12_b_no_immigration_use", "law_enforcement_use"]),
                                st.sampled_from(DAYS), st.one_of(st.none(), st.sampled_from(DAYS))), max_size=2),
    "agreement": st.one_of(st.none(), st.tuples(st.sampled_from(DAYS), st.one_of(st.none(), st.sampled_from(DAYS)))),
})
request = st.fixed_dictionaries({
    "agency": st.integers(0, 3),
    "at": st.sampled_from(MOMENTS),
    "kind": st.sampled_from([k.value for k in RecordKind]),
    "action": st.sampled_from(["read", "bulk_read", "photo_match"]),
    "purpose": st.sampled_from([p.value for p in RequestPurpose]),
    "process": st.one_of(st.none(), st.tuples(st.sampled_from([k.value for k in LegalProcessKind]),
                                               st.sampled_from([j.value for j in JudgeKind]), st.booleans())),
    "impede": st.booleans(),
})


def _agency(i: int, a: dict, custodian: str) -> dict:
    certs = []
    for kind, signed, expires in a["certs"]:
        cert = {"kind": kind, "signed_on": signed.isoformat()}
        if expires is not None and expires > signed:
            cert["expires_on"] = expires.isoformat()
        certs.append(cert)
    agreements = []
    if a["agreement"] is not None:
        start, end = a["agreement"]
        terms = {"kind": "data_sharing", "partner_agency_id": custodian, "effective_from": start.isoformat()}
        if end is not None and end > start:
            terms["effective_to"] = end.isoformat()
        agreements.append(terms)
    return {"agency_id": f"a-{i}", "name": "A", "kind": a["kind"], "jurisdiction": a["jurisdiction"],
            "primarily_enforces_immigration": a["kind"] == "immigration_enforcement", "certifications": certs,
            "agreements": agreements}


def _areqs(reqs: list[dict], agencies: list[dict], custodian: str) -> list[AccessRequest]:
    out = []
    for n, r in enumerate(reqs):
        req = {"request_id": f"R-{n}", "requester_agency_id": f"a-{r['agency']}", "custodian_agency_id": custodian,
               "record_kind": r["kind"], "action": r["action"], "purpose": r["purpose"],
               "requested_at": r["at"].isoformat(), "subject_person_id": None if r["action"] == "bulk_read" else f"p-{n}"}
        if r["process"] is not None:
            kind, judge, specific = r["process"]
            req["legal_process"] = {"kind": kind, "judge_kind": judge, "specific_records_only": specific}
        doc = {"request": req, "requester": _agency(r["agency"], agencies[r["agency"]], custodian),
               "notice_would_impede_investigation": r["impede"]}
        out.append(AccessRequest.model_validate_json(json.dumps(doc)))
    return out


FAST = {name: Gateway(name) for name in CUSTODIANS}  # shapes and memos learnt across examples, as in a long run


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pack=st.sampled_from(sorted(CUSTODIANS)), agencies=st.lists(agency, min_size=4, max_size=4),
       reqs=st.lists(request, min_size=1, max_size=40), one_by_one=st.booleans())
def test_the_fast_path_decides_and_records_as_the_validated_path(pack: str, agencies: list[dict], reqs: list[dict],
                                                                 one_by_one: bool) -> None:
    areqs = _areqs(reqs, agencies, CUSTODIANS[pack])
    fast = FAST[pack]
    slow = Gateway(pack, memo=False, validate_requests=True)
    got = [fast.check(a) for a in areqs] if one_by_one else fast.check_many(areqs)
    want = [slow.check(a) for a in areqs]
    assert got == want
    assert [d.ledger_payload() for d in got] == [d.ledger_payload() for d in want]
    assert prepare(decision_events(list(zip(areqs, got)))[0]) == prepare(decision_events(list(zip(areqs, want)))[0])


def _spy(monkeypatch) -> list[bool]:
    """Record, per Cedar batch call, whether the schema went with it."""
    with_schema: list[bool] = []
    real = cedarpy.is_authorized_batch

    def spying(batch, policies, entities, schema=None, *args, **kwargs):
        with_schema.append(schema is not None)
        return real(batch, policies, entities, schema, *args, **kwargs)

    monkeypatch.setattr(cedarpy, "is_authorized_batch", spying)
    return with_schema


def _one(pack: str = "ny_dmv", **change) -> list[AccessRequest]:
    a = {"kind": "police", "jurisdiction": "US-NY", "certs": [("ny_vtl_201_12_b_no_immigration_use", DAYS[1], None)],
         "agreement": None}
    r = {"agency": 0, "at": MOMENTS[-1], "kind": "dmv_photo", "action": "read", "purpose": "criminal_investigation",
         "process": None, "impede": False, **change}
    return _areqs([r], [a], CUSTODIANS[pack])


def test_the_validated_path_sends_the_schema_every_time_and_the_fast_path_once_per_shape(monkeypatch) -> None:
    with_schema = _spy(monkeypatch)
    slow = Gateway("ny_dmv", memo=False, validate_requests=True)
    for minutes in range(3):
        slow.check(_one(at=MOMENTS[-1] + timedelta(minutes=minutes))[0])
    assert with_schema and all(with_schema)
    with_schema.clear()
    fast = Gateway("ny_dmv", memo=False)
    fast.check(_one()[0])  # a new shape: checked
    fast.check(_one(purpose="civil_immigration_enforcement")[0])  # same shape, other values: not checked again
    fast.check(_one(process=("judicial_warrant", "article_iii", True))[0])  # legal_process: a new shape
    assert with_schema == [True, False, True]


def test_a_context_of_a_new_shape_is_checked_even_after_known_ones(drop_purpose_from_contexts) -> None:
    """A context the schema does not accept is caught when its shape first appears, however many
    well-formed requests came before: Cedar refuses it and the gateway denies, naming the error."""
    gw = Gateway("ny_dmv")
    process = ("judicial_warrant", "article_iii", True)
    assert gw.check(_one(kind="dmv_standard_license", process=process)[0]).outcome == "allow"
    drop_purpose_from_contexts()
    decision = gw.check(_one(kind="dmv_standard_license", process=process, at=MOMENTS[-2])[0])
    assert decision.outcome == "deny"
    assert [p.id for p in decision.deciding] == ["accord.evaluation_error"]
    assert any("purpose" in e for e in decision.errors)


def test_context_shape_sees_keys_and_types_not_values() -> None:
    t = {"__extn": {"fn": "datetime", "arg": "2020-01-01T00:00:00Z"}}
    assert context_shape({"a": "x", "t": t}) == context_shape({"a": "y", "t": {"__extn": {"fn": "datetime", "arg": "x"}}})
    assert context_shape({"a": "x"}) != context_shape({"a": True})
    assert context_shape({"a": "x"}) != context_shape({"a": "x", "b": "y"})
    assert context_shape({"r": {"k": "x"}}) != context_shape({"r": {"k": "x", "j": False}})
    assert context_shape({"t": t}) != context_shape({"t": {"__extn": {"fn": "decimal", "arg": "1.0"}}})
