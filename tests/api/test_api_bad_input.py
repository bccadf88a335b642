"""The issue's bad-input list: a 4xx problem naming the field, nothing half-written, the server keeps serving."""

from __future__ import annotations

import json

import pytest

from helpers.api_world import Api, custody_body, detainer_body


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert set(body) >= {"type", "title", "status", "detail", "errors"} and body["status"] == status
    return body


def _fields(body: dict) -> set[str]:
    return {e["field"] for e in body["errors"]}


def _send(api: Api, path: str, raw: str | bytes) -> object:
    return api.client.post(path, content=raw, headers={**api.as_("jail"), "Content-Type": "application/json"})


def test_malformed_json_is_400_naming_the_body(api: Api) -> None:
    body = _problem(_send(api, "/v1/custody-records", '{"custody": {'), 400)
    assert _fields(body) == {"body"} and "not valid JSON" in body["errors"][0]["problem"]


@pytest.mark.parametrize(("change", "field"), [
    ({"booked_at": 12}, "custody.booked_at"),                       # wrong type
    ({"booked_at": "2024-03-01T09:00:00"}, "custody.booked_at"),    # a date-time without a zone
    ({"jurisdiction": "New York"}, "custody.jurisdiction"),
    ({"facility": ""}, "custody.facility"),
    ({"booking_id": ["bk"]}, "custody.booking_id"),
])
def test_wrong_types_and_zoneless_dates_name_the_field(api: Api, change: dict, field: str) -> None:
    data = custody_body(1)
    data["custody"].update(change)
    assert field in _fields(_problem(_send(api, "/v1/custody-records", json.dumps(data)), 422))
    assert list(api.store.ledger.events(kind="custody.booked")) == []


def test_unknown_enum_values_and_unknown_fields_are_refused(api: Api) -> None:
    assert _send(api, "/v1/custody-records", json.dumps(custody_body(1))).status_code == 201
    bad_form = {**detainer_body(1), "form": "I-999"}
    r = api.client.post("/v1/detainers", content=json.dumps(bad_form), headers=api.as_("ice"))
    assert "form" in _fields(_problem(r, 422))
    extra = {**detainer_body(1), "priority": "urgent"}
    r = api.client.post("/v1/detainers", content=json.dumps(extra), headers=api.as_("ice"))
    assert "priority" in _fields(_problem(r, 422))
    wrapped = {**custody_body(2), "note": "x"}
    assert "note" in _fields(_problem(_send(api, "/v1/custody-records", json.dumps(wrapped)), 422))
    lift = {"lifted_at": "2024-03-05T10:00:00Z", "cancelled": True}  # the route decides that, not the body
    r = api.client.post("/v1/detainers/det-1/lift", content=json.dumps(lift), headers=api.as_("ice"))
    assert "cancelled" in _fields(_problem(r, 422))
    assert list(api.store.ledger.events(kind="detainer.received")) == []


def test_a_detainer_for_a_person_not_in_custody_is_422_naming_booking_id(api: Api) -> None:
    size = api.store.ledger.size
    r = api.client.post("/v1/detainers", content=json.dumps(detainer_body(7)), headers=api.as_("ice"))
    body = _problem(r, 422)
    assert _fields(body) == {"booking_id"} and "not in custody" in body["detail"]
    assert api.store.ledger.size == size


def test_a_release_for_an_unknown_booking_is_404_naming_booking_id(api: Api) -> None:
    size = api.store.ledger.size
    rel = {"booking_id": "bk-nowhere", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z", "reason": "bail_posted"}
    body = _problem(_send(api, "/v1/releases", json.dumps(rel)), 404)
    assert _fields(body) == {"booking_id"} and api.store.ledger.size == size


def test_a_10_mb_body_is_413_and_the_app_keeps_serving(api: Api) -> None:
    big = b'{"custody": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    body = _problem(_send(api, "/v1/custody-records", big), 413)
    assert _fields(body) == {"body"}
    assert api.client.get("/health").status_code == 200


def test_a_100_kb_header_is_431_naming_the_header(api: Api) -> None:
    r = api.client.get("/v1/detainers", headers={**api.as_("ice"), "X-Padding": "p" * 100_000})
    assert _fields(_problem(r, 431)) == {"x-padding"}
    assert api.get("ice", "/v1/detainers").status_code == 200


def test_unknown_routes_and_methods_are_problems_too(api: Api) -> None:
    _problem(api.get("ice", "/v1/nothing-here"), 404)
    _problem(api.client.delete("/v1/detainers", headers=api.as_("ice")), 405)


def test_a_detainer_received_before_it_was_issued_is_422_naming_the_field(api: Api) -> None:
    assert _send(api, "/v1/custody-records", json.dumps(custody_body(1))).status_code == 201
    late = detainer_body(1, issued_at="2024-03-05T14:00:00Z")  # received 2024-03-04T15:30Z
    body = _problem(api.client.post("/v1/detainers", content=json.dumps(late), headers=api.as_("ice")), 422)
    assert any(f.endswith("received_at") for f in _fields(body)), body
    assert "before it was issued" in json.dumps(body)
    assert list(api.store.ledger.events(kind="detainer.received")) == []
