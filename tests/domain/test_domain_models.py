"""The domain vocabulary: strict parsing, frozen records, and the facts laws read."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from accord.domain import (
    Action,
    Agency,
    AgencyKind,
    Conviction,
    CustodyRecord,
    DetainerForm,
    DetainerRequest,
    OffenseLevel,
    Person,
    Reduction,
    ReductionKind,
)

DETAINER = {
    "request_id": "det-1",
    "person_id": "p-1",
    "booking_id": "b-1",
    "form": "I-247A",
    "issuing_agency_id": "ice-nyc",
    "issuing_office": "New York Field Office",
    "issued_at": "2020-01-02T10:00:00Z",
    "received_at": "2020-01-02T11:00:00Z",
    "box1_hold_and_notify": True,
    "probable_cause_bases": ["biometric_and_records_check"],
    "administrative_warrant": {"form": "I-200", "signed_on": "2020-01-02"},
}


def parse(model, data):
    return model.model_validate_json(json.dumps(data))


def test_i247a_box1_requests_hold_notify_and_transfer():
    d = parse(DetainerRequest, DETAINER)
    assert d.requested_actions == {Action.HOLD_PAST_RELEASE, Action.NOTIFY_RELEASE, Action.TRANSFER_AT_RELEASE}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("I-247N", {Action.NOTIFY_RELEASE}),
        ("I-247X", {Action.TRANSFER_AT_RELEASE}),
        ("I-247D", {Action.HOLD_PAST_RELEASE, Action.NOTIFY_RELEASE, Action.TRANSFER_AT_RELEASE}),
    ],
)
def test_legacy_forms_request_what_they_say(form, expected):
    data = {**DETAINER, "form": form, "box1_hold_and_notify": False}
    assert parse(DetainerRequest, data).requested_actions == expected


def test_i247a_box2_only_does_not_request_a_hold():
    data = {**DETAINER, "box1_hold_and_notify": False, "box2_notify_to_resume_custody": True}
    assert Action.HOLD_PAST_RELEASE not in parse(DetainerRequest, data).requested_actions


def test_i247a_without_a_box_is_rejected_with_reason():
    with pytest.raises(ValidationError, match="box 1 or box 2"):
        parse(DetainerRequest, {**DETAINER, "box1_hold_and_notify": False})


def test_boxes_on_a_legacy_form_are_rejected():
    with pytest.raises(ValidationError, match="belong to the I-247A"):
        parse(DetainerRequest, {**DETAINER, "form": "I-247N"})


def test_unknown_field_is_named():
    with pytest.raises(ValidationError) as err:
        parse(DetainerRequest, {**DETAINER, "box_one": True})
    assert err.value.errors()[0]["loc"] == ("box_one",)


def test_naive_timestamp_is_rejected_naming_the_field():
    with pytest.raises(ValidationError) as err:
        parse(DetainerRequest, {**DETAINER, "received_at": "2020-01-02T11:00:00"})
    assert err.value.errors()[0]["loc"] == ("received_at",)


def test_received_before_issued_is_rejected():
    with pytest.raises(ValidationError, match="received_at"):
        parse(DetainerRequest, {**DETAINER, "received_at": "2020-01-01T11:00:00Z"})


def test_strict_mode_does_not_coerce_strings_to_booleans():
    with pytest.raises(ValidationError):
        parse(DetainerRequest, {**DETAINER, "served_on_subject": "yes"})


def test_records_are_frozen():
    d = parse(DetainerRequest, DETAINER)
    with pytest.raises(ValidationError):
        d.served_on_subject = True  # type: ignore[misc]


def test_personal_fields_are_marked_and_redacted():
    p = parse(Person, {"person_id": "p-1", "name": "Synthetic Name", "birth_date": "1990-01-01"})
    assert {"name", "birth_date"} <= Person.personal_fields()
    red = p.redacted()
    assert red["name"] == "<redacted>" and red["birth_date"] == "<redacted>"
    assert red["person_id"] == "p-1"
    assert "Synthetic Name" not in json.dumps(red)


def test_immigration_agency_must_be_flagged():
    base = {"agency_id": "ice", "name": "ICE", "kind": "immigration_enforcement", "jurisdiction": "US"}
    with pytest.raises(ValidationError, match="primarily_enforces_immigration"):
        parse(Agency, base)
    assert parse(Agency, {**base, "primarily_enforces_immigration": True}).kind is AgencyKind.IMMIGRATION_ENFORCEMENT


def test_bad_jurisdiction_code_is_rejected():
    with pytest.raises(ValidationError) as err:
        parse(Agency, {"agency_id": "x", "name": "X", "kind": "police", "jurisdiction": "new york"})
    assert err.value.errors()[0]["loc"] == ("jurisdiction",)


def test_prop47_reduction_changes_effective_level_from_its_date():
    from datetime import date

    c = parse(
        Conviction,
        {
            "conviction_id": "c-1",
            "offense_code": "CA PC 496",
            "jurisdiction": "US-CA",
            "level": "felony",
            "wobbler": True,
            "convicted_on": "2012-03-01",
            "reductions": [{"kind": "prop_47", "on": "2015-06-01", "new_level": "misdemeanor"}],
        },
    )
    assert c.effective_level(date(2014, 1, 1)) is OffenseLevel.FELONY
    assert c.effective_level(date(2016, 1, 1)) is OffenseLevel.MISDEMEANOR
    assert c.reductions == (Reduction(kind=ReductionKind.PROP_47, on=date(2015, 6, 1), new_level=OffenseLevel.MISDEMEANOR),)


def test_release_eligibility_before_booking_is_rejected():
    with pytest.raises(ValidationError, match="release_eligible_at"):
        parse(
            CustodyRecord,
            {
                "booking_id": "b-1",
                "person_id": "p-1",
                "jurisdiction": "US-NY-NYC",
                "agency_id": "nyc-doc",
                "facility": "Synthetic Facility",
                "booked_at": "2020-01-02T10:00:00Z",
                "release_eligible_at": "2020-01-01T10:00:00Z",
            },
        )


def test_detainer_forms_cover_domain_md():
    assert {f.value for f in DetainerForm} == {"I-247A", "I-247", "I-247D", "I-247N", "I-247X"}
