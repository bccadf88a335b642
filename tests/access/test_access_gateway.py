"""The gateway: fail closed on evaluation errors, the 3-day notice, earlier rules before a law."""

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import cedarpy
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.access.packs import load_pack
from helpers.packs import one_file_pack
from accord.domain.enums import JudgeKind, LegalProcessKind, RecordAction, RecordKind, RequestPurpose

NY = ZoneInfo("America/New_York")
ICE = {"agency_id": "ice-ero", "name": "ICE ERO", "kind": "immigration_enforcement", "jurisdiction": "US",
       "primarily_enforces_immigration": True}
NYPD = {"agency_id": "nypd", "name": "NYPD", "kind": "police", "jurisdiction": "US-NY-NYC",
        "certifications": [{"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2020-01-02"}]}


def request(requester: dict, *, when: datetime, record_kind: str = "dmv_standard_license", action: str = "read",
            purpose: str = "criminal_investigation", process: dict | None = None, subject: bool = True,
            rid: str = "R-1", custodian: str = "ny-dmv") -> AccessRequest:
    req = {"request_id": rid, "requester_agency_id": requester["agency_id"], "custodian_agency_id": custodian,
           "record_kind": record_kind, "action": action, "purpose": purpose, "requested_at": when.isoformat(),
           "subject_person_id": "person-9" if subject else None}
    if process is not None:
        req["legal_process"] = process
    return AccessRequest.model_validate_json(json.dumps({"request": req, "requester": requester}))


FAILING_FORBID_PACK = """
@id("t.permit_all") @citation("Test permit") @explanation("Permits everything.") @effective_from("2000-01-01")
permit (principal, action in Accord::Action::"access", resource);

@id("t.broken_forbid") @citation("Test forbid") @explanation("Errors at evaluation: the product overflows.")
@effective_from("2000-01-01")
forbid (principal, action in Accord::Action::"access", resource)
when { context.request_time.toTime().toMilliseconds() * 9223372036854775 > 0 };
"""


def _write_pack(tmp_path: Path, text: str) -> Path:
    return one_file_pack(tmp_path, text, name="failing")


def test_a_forbid_that_errors_denies_instead_of_being_skipped(tmp_path: Path) -> None:
    pack = load_pack(str(_write_pack(tmp_path, FAILING_FORBID_PACK)))  # validates at load
    areq = request(NYPD, when=datetime(2021, 5, 5, 13, tzinfo=NY))
    gw = Gateway(pack)
    # Cedar on its own skips the erroring forbid and lets the request through ...
    window = pack.window(date(2021, 5, 5))
    raw = cedarpy.is_authorized(gw._cedar_requests(areq)[0], window.policy_set,
                                gw._entities_for(areq, date(2021, 5, 5)), gw._schema)
    assert raw.allowed and raw.diagnostics.errors
    # ... the gateway denies and records why.
    decision = gw.check(areq)
    assert decision.outcome == "deny"
    assert any("t.broken_forbid" in e and "overflow" in e for e in decision.errors)
    assert [p.id for p in decision.deciding] == ["accord.evaluation_error"]


def test_an_erroring_obligation_is_treated_as_owed(tmp_path: Path) -> None:
    text = FAILING_FORBID_PACK.split("@id(\"t.broken_forbid\")")[0] + """
@id("t.notice") @citation("Test notice") @explanation("e") @effective_from("2000-01-01")
@obligation("subject_record_request") @recipient("subject") @within_days("3")
permit (principal, action == Accord::Action::"owe_notices", resource)
when { context.request_time.toTime().toMilliseconds() * 9223372036854775 > 0 };
"""
    decision = Gateway(load_pack(str(_write_pack(tmp_path, text)))).check(
        request(NYPD, when=datetime(2021, 5, 5, 13, tzinfo=NY)))
    assert decision.outcome == "deny" and decision.errors
    assert [o.policy_id for o in decision.notices()] == ["t.notice"]


purposes = st.sampled_from(list(RequestPurpose))
kinds = st.sampled_from([k for k in RecordKind if k is not RecordKind.CUSTODY_RECORD])
actions = st.sampled_from(list(RecordAction))
processes = st.one_of(st.none(), st.builds(lambda k, j, s: {"kind": k.value, "judge_kind": j.value, "specific_records_only": s},
                                           st.sampled_from(list(LegalProcessKind)), st.sampled_from(list(JudgeKind)), st.booleans()))
days = st.dates(min_value=date(2019, 12, 14), max_value=date(2026, 12, 31))


SHARED = Gateway("ny_dmv")


@settings(max_examples=150, deadline=None)
@given(purpose=purposes, kind=kinds, action=actions, process=processes, day=days, subject=st.booleans())
def test_ny_3_day_notice_is_owed_for_every_immigration_agency_request_allowed_or_not(
        purpose, kind, action, process, day, subject) -> None:
    gw = SHARED  # reused, so the memoised owe_notices answers are exercised too
    when = datetime.combine(day, datetime.min.time(), NY).replace(hour=23, minute=30)
    areq = request(ICE, when=when, record_kind=kind.value, action=action.value,
                   purpose=purpose.value, process=process, subject=subject)
    decision = gw.check(areq)
    assert decision == Gateway(gw.pack).check(areq), "memoised and fresh gateways agree"
    notices = [o for o in decision.notices() if o.kind.value == "subject_record_request"]
    assert len(notices) == 1, decision
    local_due = notices[0].due_by.astimezone(gw.pack.timezone)
    assert local_due.date() == day + timedelta(days=3)
    assert notices[0].citation == "N.Y. VTL §201(12)(a)"
    assert notices[0].person_id == ("person-9" if subject else None)


def test_both_outcomes_owe_the_notice() -> None:
    gw = Gateway("ny_dmv")
    when = datetime(2021, 2, 1, 10, tzinfo=NY)
    denied = gw.check(request(ICE, when=when, purpose="civil_immigration_enforcement"))
    allowed = gw.check(request(ICE, when=when, process={"kind": "judicial_warrant", "judge_kind": "article_iii"}))
    assert (denied.outcome, allowed.outcome) == ("deny", "allow")
    assert [o.kind for o in denied.notices()] == [o.kind for o in allowed.notices()]


def test_police_requests_owe_no_subject_notice() -> None:
    decision = Gateway("ny_dmv").check(request(NYPD, when=datetime(2021, 2, 1, 10, tzinfo=NY)))
    assert decision.outcome == "allow" and decision.notices() == ()


def test_dates_before_each_law_use_the_earlier_rules() -> None:
    gw = Gateway("ny_dmv")
    ice = lambda d, **kw: gw.check(request(ICE, when=datetime.combine(d, datetime.min.time(), NY).replace(hour=12), **kw))  # noqa: E731
    before = ice(date(2019, 12, 13), purpose="civil_immigration_enforcement")
    assert before.outcome == "allow" and before.notices() == () and before.law_in_force_to == date(2019, 12, 14)
    assert ice(date(2019, 12, 14), purpose="civil_immigration_enforcement").outcome == "deny"
    # trusted-traveler vetting: refused under the 2019 text, allowed once Part YYY is in force
    assert ice(date(2020, 4, 2), purpose="trusted_traveler_vetting").citations == (
        "N.Y. VTL §201(12)(a), as added by L.2019 ch. 37",)
    assert ice(date(2020, 4, 3), purpose="trusted_traveler_vetting").outcome == "allow"
    # MA: 940 CMR 37.04 is not applied before its date
    ma = Gateway("ma_rmv")
    on = lambda d: ma.check(request(ICE, when=datetime.combine(d, datetime.min.time(), NY).replace(hour=12),  # noqa: E731
                                    purpose="civil_immigration_enforcement", custodian="ma-rmv"))
    assert on(date(2023, 6, 30)).outcome == "allow"
    assert on(date(2023, 7, 1)).citations == ("940 CMR 37.04",)


def test_as_of_decides_under_another_date_s_law() -> None:
    gw = Gateway("ny_dmv")
    areq = request(ICE, when=datetime(2020, 2, 10, 12, tzinfo=NY), purpose="trusted_traveler_vetting")
    assert gw.check(areq).outcome == "deny"
    assert gw.check(areq, as_of=date(2020, 8, 1)).outcome == "allow"


def test_check_many_equals_check_one_by_one() -> None:
    gw = Gateway("ny_dmv")
    reqs = [request(a, when=datetime(2020, m, 3, 9, tzinfo=NY), purpose=p, rid=f"R-{i}")
            for i, (a, m, p) in enumerate([(ICE, 1, "trusted_traveler_vetting"), (NYPD, 1, "criminal_investigation"),
                                           (ICE, 8, "trusted_traveler_vetting"), (NYPD, 8, "traffic_safety")])]
    assert gw.check_many(reqs) == [gw.check(r) for r in reqs]


def test_a_varied_batch_equals_fresh_one_by_one_checks() -> None:
    """check_many asks owe_notices once per memo key and shares the answer: nothing may change."""
    agencies = [ICE, NYPD, {**NYPD, "agency_id": "nj-sp", "jurisdiction": "US-NJ", "certifications": []}]
    reqs = [request(agencies[i % 3], when=datetime(2019, 11, 1, 9, tzinfo=NY) + timedelta(days=37 * i),
                    purpose=list(RequestPurpose)[i % len(RequestPurpose)].value,
                    record_kind=[k for k in RecordKind if k is not RecordKind.CUSTODY_RECORD][i % 8].value,
                    subject=bool(i % 4), rid=f"R-{i}")
            for i in range(60)]
    batched = Gateway("ny_dmv").check_many(reqs)
    assert batched == [Gateway("ny_dmv").check(r) for r in reqs]
    assert {d.outcome for d in batched} == {"allow", "deny"}
    assert sum(len(d.notices()) for d in batched) >= 10
    for d in batched:  # the ledger payload is the full decision minus the policies' prose
        full = d.model_dump(mode="json")
        for ref in full["deciding"]:
            del ref["explanation"], ref["legal_note"]
        for o in full["obligations"]:
            del o["explanation"]
        assert d.ledger_payload() == full
        assert json.dumps(d.ledger_payload(), sort_keys=True) == json.dumps(full, sort_keys=True)


def test_an_erroring_obligation_is_owed_by_every_request_of_a_batch(tmp_path: Path) -> None:
    text = FAILING_FORBID_PACK.split("@id(\"t.broken_forbid\")")[0] + """
@id("t.notice") @citation("Test notice") @explanation("e") @effective_from("2000-01-01")
@obligation("subject_record_request") @recipient("subject") @within_days("3")
permit (principal, action == Accord::Action::"owe_notices", resource)
when { principal.primarily_enforces_immigration && context.request_time.toTime().toMilliseconds() * 9223372036854775 > 0 };
"""
    gw = Gateway(load_pack(str(_write_pack(tmp_path, text))))
    # Same requester and moment: one memo key, so the batch would share an answer that errored.
    reqs = [request(ICE, when=datetime(2021, 5, 5, 13, tzinfo=NY), rid=f"R-{i}") for i in range(4)]
    decisions = gw.check_many(reqs)
    assert all(d.outcome == "deny" and d.errors for d in decisions)
    assert [[o.policy_id for o in d.notices()] for d in decisions] == [["t.notice"]] * 4


def test_requester_must_match_the_request() -> None:
    import pytest
    from pydantic import ValidationError

    doc = {"request": {"request_id": "R", "requester_agency_id": "someone-else", "custodian_agency_id": "ny-dmv",
                       "record_kind": "dmv_photo", "purpose": "other", "requested_at": "2021-01-01T00:00:00Z"},
           "requester": NYPD}
    with pytest.raises(ValidationError, match="requester.agency_id"):
        AccessRequest.model_validate_json(json.dumps(doc))


def test_check_picks_the_pack_of_the_custodian_holding_the_records() -> None:
    from accord.access import check

    when = datetime(2024, 3, 5, 10, tzinfo=NY)
    assert check(request(ICE, when=when, purpose="civil_immigration_enforcement")).pack == "ny_dmv"
    ma = check(request(ICE, when=when, purpose="civil_immigration_enforcement", custodian="ma-rmv"))
    assert (ma.pack, ma.citations) == ("ma_rmv", ("940 CMR 37.04",))


@settings(max_examples=200, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30),
                           timezones=st.sampled_from([timezone.utc, NY, timezone(timedelta(hours=5, minutes=30))])))
def test_cedar_datetime_text_is_utc_to_the_second(moment: datetime) -> None:
    from accord.access.model import utc_iso

    assert utc_iso(moment) == moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_trusted_construction_is_model_construct() -> None:
    """The gateway's fast constructor must build exactly what pydantic's model_construct builds."""
    from accord.access.model import AccessDecision, Obligation

    when = datetime(2021, 2, 1, 10, tzinfo=NY)
    decisions = Gateway("ny_dmv").check_many([
        request(ICE, when=when, purpose="civil_immigration_enforcement", rid="R-1"),
        request(NYPD, when=when, rid="R-2"),
        request(ICE, when=datetime(2019, 12, 1, 10, tzinfo=NY), subject=False, rid="R-3")])
    built = [d for d in decisions] + [o for d in decisions for o in d.obligations]
    assert any(isinstance(m, Obligation) for m in built)
    for m in built:
        values = {name: getattr(m, name) for name in type(m).model_fields}
        fast, slow = type(m).trusted(**values), type(m).model_construct(**values)
        assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
        assert fast.model_fields_set == slow.model_fields_set
        assert fast.model_dump_json() == slow.model_dump_json()
        assert fast.__pydantic_extra__ == slow.__pydantic_extra__ and fast.__pydantic_private__ == slow.__pydantic_private__
        # a validated copy agrees too: the gateway's values are what validation would make
        assert type(m).model_validate(slow.model_dump()) == fast
    # anything but exactly the fields falls back to model_construct (defaults filled in)
    values = {name: getattr(decisions[0], name) for name in AccessDecision.model_fields if name != "errors"}
    assert AccessDecision.trusted(**values).errors == ()


def test_the_entity_cache_key_covers_everything_the_entities_read() -> None:
    """Vary each Agency field: the key must change whenever the Cedar entities would."""
    from accord.access.entities import agency_entities, chosen_certifications, entity_key
    from accord.domain import Agency

    base = {"agency_id": "pd-1", "name": "Police", "kind": "police", "jurisdiction": "US-NY",
            "primarily_enforces_immigration": False, "parent_agency_id": None,
            "certifications": [{"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2020-01-02"},
                               {"kind": "law_enforcement_use", "signed_on": "2020-01-05", "expires_on": "2021-01-05"}],
            "agreements": []}
    cert = base["certifications"]
    variants = [
        {"agency_id": "pd-2"}, {"name": "Other name"}, {"kind": "sheriff"}, {"kind": "foreign_government"},
        {"jurisdiction": "US-NY-NYC"}, {"primarily_enforces_immigration": True}, {"parent_agency_id": "nypd"},
        {"certifications": [{**cert[0], "signed_on": "2020-01-03"}, cert[1]]},
        {"certifications": [{**cert[0], "expires_on": "2022-01-01"}, cert[1]]},
        {"certifications": [cert[0], {**cert[1], "expires_on": None}]},
        {"certifications": [cert[0]]}, {"certifications": [cert[1], cert[0]]},
        {"certifications": [*cert, {"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2019-06-01"}]},
        {"agreements": [{"kind": "data_sharing", "partner_agency_id": "ny-dmv", "effective_from": "2018-01-01"}]},
    ]
    on = date(2020, 6, 1)
    a = Agency.model_validate_json(json.dumps(base))
    picks_a = chosen_certifications(a, on)
    for change in variants:
        b = Agency.model_validate_json(json.dumps({**base, **change}))
        picks_b = chosen_certifications(b, on)
        same_entities = agency_entities(a, picks_a, NY) == agency_entities(b, picks_b, NY)
        assert (entity_key(a, picks_a) == entity_key(b, picks_b)) == same_entities, change


def test_a_request_cedar_cannot_match_to_the_schema_is_denied_with_the_reason(drop_purpose_from_contexts) -> None:
    """Why every request is validated against the schema (about 20 % of Cedar's time here): without
    it, a context missing an attribute the policies read can come back a plain Deny or Allow with
    no error at all. With it Cedar refuses the request, and the gateway denies and says why."""
    drop_purpose_from_contexts()
    areq = request(ICE, when=datetime(2021, 5, 5, 13, tzinfo=NY), process={"kind": "judicial_warrant", "judge_kind": "article_iii"})
    decision = Gateway("ny_dmv").check(areq)
    assert decision.outcome == "deny"
    assert [p.id for p in decision.deciding] == ["accord.evaluation_error"]
    assert any("purpose" in e for e in decision.errors)
