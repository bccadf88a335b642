"""Ids an agency chose may hold "/" (booking numbers like ``NYC/2024/0001``): what is accepted is addressable.

The domain's identifier allows "/", so a booking, detainer or record request recorded with one
must be readable, liftable and listable by the same id, whether the client sends it as is or
percent-encoded (``%2F``), and the ids built from it (its notices') too.
"""

from __future__ import annotations

from urllib.parse import quote

from helpers.api_world import Api, custody_body, detainer_body, record_body

BOOKING, DETAINER = "NYC/2024/0001", "DET/2024/07"


def _case(api: Api) -> dict:
    custody = custody_body(1)
    custody["custody"]["booking_id"] = BOOKING
    assert api.post("jail", "/v1/custody-records", custody).status_code == 201
    r = api.post("ice", "/v1/detainers", detainer_body(1, request_id=DETAINER, booking_id=BOOKING))
    assert r.status_code == 201, r.text
    return r.json()


def test_a_booking_and_a_detainer_with_slashes_in_their_ids_are_read_back_raw_and_encoded(api: Api) -> None:
    made = _case(api)
    for path in (DETAINER, quote(DETAINER, safe="")):
        got = api.get("ice", f"/v1/detainers/{path}")
        assert got.status_code == 200, (path, got.text)
        assert got.json() == made
    for path in (BOOKING, quote(BOOKING, safe="")):
        got = api.get("jail", f"/v1/custody-records/{path}")
        assert got.status_code == 200 and got.json()["booking_id"] == BOOKING
    assert api.get("ice", "/v1/detainers/DET/2024/08").status_code == 404  # a near miss is not found, not routed elsewhere


def test_a_detainer_with_a_slash_in_its_id_is_lifted_by_that_id(api: Api) -> None:
    _case(api)
    r = api.post("ice", f"/v1/detainers/{quote(DETAINER, safe='')}/lift", {"lifted_at": "2024-03-05T09:00:00Z",
                                                                          "reason": "withdrawn"})
    assert r.status_code == 200, r.text
    assert r.json()["request_id"] == DETAINER and r.json()["state"] == "lifted"
    assert api.post("ice", f"/v1/detainers/{DETAINER}/lift", {"lifted_at": "2024-03-05T09:00:00Z"}).status_code == 409


def test_a_record_request_and_its_notices_with_slashes_are_addressable(api: Api) -> None:
    body = record_body(1, requester="ice", purpose="civil_immigration_enforcement", request_id="RR/2024/3")
    view = api.post("ice", "/v1/record-requests", body).json()
    assert api.get("ice", "/v1/record-requests/RR/2024/3").json() == view
    assert view["notices"]
    for notice in view["notices"]:
        assert "/" in notice["notice_id"]
        assert api.get("dmv", f"/v1/notices/{quote(notice['notice_id'], safe='')}").json()["notice_id"] == notice["notice_id"]
    nid = view["notices"][0]["notice_id"]
    r = api.post("dmv", f"/v1/notices/{nid}/sent", {"sent_at": "2024-03-05T09:00:00Z", "channel": "mail"})
    assert r.status_code == 200 and r.json()["state"] == "sent"


def test_a_path_id_outside_the_identifier_shape_is_a_422_naming_it(api: Api) -> None:
    r = api.get("ice", "/v1/detainers/" + quote("/leading-slash", safe=""))
    assert r.status_code in (404, 422)
    r = api.get("ice", "/v1/detainers/" + quote("has space", safe=""))
    assert r.status_code == 422 and "request_id" in r.text
