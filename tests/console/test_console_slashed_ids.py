"""The console reaches a detainer whose id holds "/" (``DET/2024/07``): its page, its steps, its notices' pages."""

from __future__ import annotations

from helpers.api_world import custody_body, detainer_body
from helpers.console_world import OFFICER, csrf_of, sign_in

DETAINER = "DET/2024/07"


def test_an_officer_releases_a_person_on_a_detainer_with_slashes_in_its_id(console_api):
    custody = custody_body(1)
    custody["custody"]["booking_id"] = "NYC/2024/0001"
    assert console_api.post("jail", "/v1/custody-records", custody).status_code == 201
    made = console_api.post("ice", "/v1/detainers", detainer_body(1, request_id=DETAINER, booking_id="NYC/2024/0001"))
    assert made.status_code == 201, made.text
    sign_in(console_api.client, OFFICER)

    queue = console_api.client.get("/console/queue").text
    assert f'href="/console/detainers/{DETAINER}"' in queue
    page = console_api.client.get(f"/console/detainers/{DETAINER}")
    assert page.status_code == 200 and DETAINER in page.text and "Record release" in page.text
    assert f'href="/console/detainers/{DETAINER}/release"' in page.text
    assert console_api.client.get(f"/console/detainers/{DETAINER}/frobnicate").status_code == 404

    (owed,) = [n for n in console_api.get("jail", "/v1/notices").json()["items"] if n["about_request_id"] == DETAINER]
    nid = owed["notice_id"]
    assert "/" in nid and owed["kind"] == "hold_expiry"
    sent = console_api.client.get(f"/console/notices/{nid}/sent")
    assert sent.status_code == 200 and f'action="/console/notices/{nid}/sent"' in sent.text

    confirm = console_api.client.get(f"/console/detainers/{DETAINER}/release")
    assert confirm.status_code == 200 and f'action="/console/detainers/{DETAINER}/release"' in confirm.text
    r = console_api.client.post(f"/console/detainers/{DETAINER}/release",
                                data={"reason": "bail_posted", "csrf": csrf_of(confirm.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(f"/console/detainers/{DETAINER}?")
    after = console_api.client.get(r.headers["location"]).text
    assert "closed: the person was released" in after and "NO LONGER OWED" in after
    assert console_api.get("jail", f"/v1/detainers/{DETAINER}").json()["state"] == "released"
    assert console_api.get("jail", f"/v1/notices/{nid}").json()["state"] == "discharged"
