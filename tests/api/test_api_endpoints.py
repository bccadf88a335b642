"""Every endpoint through the real app, on SQLite and PostgreSQL: the lifecycle, its 409s, the reads."""

from __future__ import annotations

from helpers.api_world import Api, custody_body, detainer_body, record_body


def _book_and_detain(api: Api, n: int = 1, **detainer: object) -> dict:
    assert api.post("jail", "/v1/custody-records", custody_body(n)).status_code == 201
    r = api.post("ice", "/v1/detainers", detainer_body(n, **detainer))
    assert r.status_code == 201, r.text
    return r.json()


def test_health_needs_no_token_and_the_openapi_document_is_3_1(api: Api) -> None:
    assert api.client.get("/health").json()["status"] == "ok"
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    assert "/v1/detainers/{request_id}" in doc["paths"] and doc["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    page = api.client.get("/docs")
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    assert api.client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_a_booking_then_a_detainer_is_decided_with_rules_citations_and_facts(api: Api) -> None:
    booking = api.post("jail", "/v1/custody-records", custody_body(1)).json()
    assert booking["state"] == "in_custody" and booking["custodian_agency_id"] == "nyc-doc"
    assert api.get("jail", "/v1/custody-records/bk-1").json() == booking
    view = api.post("ice", "/v1/detainers", detainer_body(1)).json()
    # The issuer may learn the state here (the decision permits notifying it); its own steps are
    # lift and cancel, the custodian's are release and transfer.
    assert view["state"] == "holding" and view["steps"] == ["lift", "cancel"]
    hold = next(a for a in view["decision"]["actions"] if a["action"] == "hold_past_release")
    assert hold["outcome"] == "allow" and hold["citation"] == "NYC Admin Code §9-131(b)" and hold["rule_id"]
    assert hold["summary"] and view["decision"]["facts"]["judicial_warrant_judge_kind"] == "federal_magistrate"
    assert api.get("ice", "/v1/detainers/det-1").json() == view
    jail_view = api.get("jail", "/v1/detainers/det-1").json()
    assert jail_view["state"] == "holding" and jail_view["steps"] == ["release", "transfer", "lift", "cancel"]
    events = [e.kind for e in api.store.ledger.events(stream="detainer/det-1")]
    assert events == ["detainer.received", "decision.made"]


def test_a_detainer_declined_cannot_be_a_transfer_409_and_nothing_is_written(api: Api) -> None:
    view = _book_and_detain(api, warrant=False)
    assert view["state"] == "declined"
    size = api.store.ledger.size
    r = api.post("jail", "/v1/releases", {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z",
                                          "reason": "transferred_to_immigration", "to_agency_id": "ice"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert "does not allow a transfer" in r.json()["detail"] and r.json()["errors"][0]["field"] == "reason"
    assert api.store.ledger.size == size
    r = api.post("jail", "/v1/releases", {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z",
                                          "reason": "bail_posted"})
    assert r.status_code == 201 and r.json()["state"] == "released"
    # NYC Admin Code §9-131 permits no notice to ICE here, so ICE's view does not disclose the release.
    assert api.get("jail", "/v1/detainers/det-1").json()["state"] == "released"
    assert api.get("ice", "/v1/detainers/det-1").json()["state"] == "declined"
    again = api.post("jail", "/v1/releases", {"booking_id": "bk-1", "person_id": "p-1",
                                              "released_at": "2024-03-09T13:00:00Z", "reason": "bail_posted"})
    assert again.status_code == 409


def test_an_allowed_transfer_closes_the_detainer(api: Api) -> None:
    _book_and_detain(api)
    r = api.post("jail", "/v1/releases", {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z",
                                          "reason": "transferred_to_immigration", "to_agency_id": "ice"})
    assert r.status_code == 201
    view = api.get("ice", "/v1/detainers/det-1").json()
    assert view["state"] == "transferred" and view["steps"] == [] and view["closed_seq"]


def test_lift_and_cancel_then_a_second_lift_is_409(api: Api) -> None:
    _book_and_detain(api, 1)
    _book_and_detain(api, 2)
    r = api.post("ice", "/v1/detainers/det-1/lift", {"lifted_at": "2024-03-05T10:00:00Z", "reason": "no longer needed"})
    assert r.status_code == 200 and r.json()["state"] == "lifted"
    assert api.post("ice", "/v1/detainers/det-2/cancel", {"lifted_at": "2024-03-05T10:00:00Z"}).json()["state"] == "cancelled"
    r = api.post("ice", "/v1/detainers/det-1/lift", {"lifted_at": "2024-03-05T11:00:00Z"})
    assert r.status_code == 409 and "already lifted" in r.json()["detail"]
    lifted = [e.payload["recorded_by"] for e in api.store.ledger.events(kind="detainer.lifted")]
    assert lifted == [f"token:{api.token_ids['ice']}"] * 2


def test_a_second_booking_or_detainer_with_the_same_id_is_409(api: Api) -> None:
    _book_and_detain(api)
    assert api.post("jail", "/v1/custody-records", custody_body(1)).status_code == 409
    assert api.post("ice", "/v1/detainers", detainer_body(1)).status_code == 409


def test_the_list_filters_by_state_and_pages_through_every_detainer_once(api: Api) -> None:
    for n in range(1, 6):
        _book_and_detain(api, n, warrant=n % 2 == 1)
    holding = api.get("ice", "/v1/detainers", params={"state": "holding"}).json()
    assert [d["request_id"] for d in holding["items"]] == ["det-1", "det-3", "det-5"] and holding["next"] is None
    seen, after = [], None
    while True:
        page = api.get("jail", "/v1/detainers", params={"limit": 2, **({"after": after} if after else {})}).json()
        seen += [d["request_id"] for d in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert sorted(seen) == [f"det-{n}" for n in range(1, 6)] and len(seen) == 5
    bad = api.get("ice", "/v1/detainers", params={"state": "sleeping"})
    assert bad.status_code == 422 and bad.json()["errors"][0] == {"field": "state", "location": "query",
                                                                  "problem": bad.json()["errors"][0]["problem"]}


def test_a_record_request_is_decided_under_the_custodians_pack_and_read_back(api: Api) -> None:
    r = api.post("police", "/v1/record-requests", record_body(1))
    assert r.status_code == 201, r.text
    view = r.json()
    assert view["pack"] == "ny_dmv" and view["outcome"] in ("allow", "deny") and view["deciding"]
    assert api.get("police", "/v1/record-requests/rr-1").json() == view
    assert api.get("dmv", "/v1/record-requests/rr-1").json() == view
    assert [x["request_id"] for x in api.get("dmv", "/v1/record-requests").json()["items"]] == ["rr-1"]
    assert api.post("police", "/v1/record-requests", record_body(1)).status_code == 409
    kinds = [e.kind for e in api.store.ledger.events(stream="record/rr-1")]
    assert kinds[:2] == ["record.requested", "access.decided"]


def test_an_immigration_request_for_dmv_records_is_denied_and_owes_its_notices(api: Api) -> None:
    body = record_body(2, requester="ice", purpose="civil_immigration_enforcement")
    view = api.post("ice", "/v1/record-requests", body).json()
    assert view["outcome"] == "deny" and view["notices"], view
    assert all(n["about_request_id"] == "rr-2" and n["state"] == "owed" for n in view["notices"])
    listed = api.get("dmv", "/v1/notices", params={"about_request_id": "rr-2"}).json()["items"]
    assert {n["notice_id"] for n in listed} == {n["notice_id"] for n in view["notices"]}


def test_notices_listed_then_marked_sent_once(api: Api) -> None:
    api.post("ice", "/v1/record-requests", record_body(3, requester="ice", purpose="civil_immigration_enforcement"))
    owed = api.get("dmv", "/v1/notices").json()["items"]
    assert owed
    nid = owed[0]["notice_id"]
    assert api.get("dmv", f"/v1/notices/{nid}").json()["state"] == "owed"
    r = api.post("dmv", f"/v1/notices/{nid}/sent", {"sent_at": "2024-03-05T09:00:00-05:00", "channel": "mail"})
    assert r.status_code == 200 and r.json()["state"] == "sent"
    assert api.post("dmv", f"/v1/notices/{nid}/sent", {"sent_at": "2024-03-05T09:00:00Z"}).status_code == 409
    assert nid in {n["notice_id"] for n in api.get("dmv", "/v1/notices", params={"state": "sent"}).json()["items"]}


def test_agencies_self_and_list(api: Api) -> None:
    assert api.get("ice", "/v1/agencies/self").json()["agency_id"] == "ice"
    assert [a["agency_id"] for a in api.get("ice", "/v1/agencies").json()] == ["ice"]
    assert len(api.get("auditor", "/v1/agencies").json()) == 4
    assert api.get("auditor", "/v1/agencies/self").status_code == 404


def test_an_agency_proves_its_detainer_is_in_the_signed_ledger(api: Api) -> None:
    from accord.ledger.records import InclusionProof

    view = _book_and_detain(api)
    seq = view["detainer_seq"]
    assert api.get("ice", f"/v1/audit/proof/{seq}").status_code == 409  # no checkpoint covers it yet
    api.store.ledger.checkpoint()
    cp = api.get("ice", "/v1/audit/checkpoint").json()
    assert cp["signed_note"].startswith(cp["note"] + "\n\u2014 " + cp["origin"] + " ")  # C2SP signed note
    proof = api.get("ice", f"/v1/audit/proof/{seq}").json()
    assert proof["checkpoint"] == cp and proof["root_hash"] == cp["root_hash"] and proof["size"] == cp["size"]
    assert InclusionProof(proof["seq"], proof["size"], bytes.fromhex(proof["leaf_hash"]), bytes.fromhex(proof["root_hash"]),
                          tuple(bytes.fromhex(p) for p in proof["path"])).verify()
    assert api.store.ledger.get(seq).leaf_hash.hex() == proof["leaf_hash"]
    assert api.get("police", f"/v1/audit/proof/{seq}").status_code == 404  # not the police's event
    assert api.get("auditor", f"/v1/audit/proof/{seq}").status_code == 200
    assert api.get("ice", f"/v1/audit/proof/{seq}", params={"size": seq - 1}).status_code == 409
