"""Idempotency-Key: a replay returns the first response and records nothing; another body is refused; races record once."""

from __future__ import annotations

import asyncio
import json

import httpx

from helpers.api_world import Api, custody_body, detainer_body


def _events(api: Api) -> int:
    return api.store.ledger.size


def test_a_replay_returns_the_first_response_and_records_nothing_new(api: Api) -> None:
    first = api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    size = _events(api)
    again = api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again.headers["idempotent-replayed"] == "true" and _events(api) == size
    # the same body spelled differently (key order, spacing) is the same request
    spelled = json.dumps(custody_body(1), indent=2, sort_keys=True)
    r = api.client.post("/v1/custody-records", content=spelled, headers=api.as_("jail", **{"Idempotency-Key": '"book-1"'}))
    assert r.status_code == 201 and r.content == first.content and _events(api) == size
    # without a key a second booking is a conflict, not a second record
    assert api.post("jail", "/v1/custody-records", custody_body(1)).status_code == 409


def test_the_same_key_with_another_body_or_path_is_422_and_records_nothing(api: Api) -> None:
    api.post("jail", "/v1/custody-records", custody_body(1), key="k")
    size = _events(api)
    r = api.post("jail", "/v1/custody-records", custody_body(2), key="k")
    assert r.status_code == 422 and r.json()["type"] == "urn:accord:problem:idempotency-key-reused"
    assert r.json()["errors"] == [{"field": "Idempotency-Key", "location": "header", "problem": r.json()["detail"]}]
    rel = {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z", "reason": "bail_posted"}
    assert api.post("jail", "/v1/releases", rel, key="k").status_code == 422
    assert _events(api) == size


def test_keys_are_per_token_and_a_failed_request_keeps_no_key(api: Api) -> None:
    assert api.post("ice", "/v1/detainers", detainer_body(1), key="d").status_code == 422  # not booked yet
    api.post("jail", "/v1/custody-records", custody_body(1), key="d")  # the jail's own "d"
    r = api.post("ice", "/v1/detainers", detainer_body(1), key="d")  # the corrected retry reuses its key
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


def test_a_malformed_key_is_400_naming_the_header(api: Api) -> None:
    size = _events(api)
    r = api.client.post("/v1/custody-records", content=json.dumps(custody_body(1)),
                        headers=api.as_("jail", **{"Idempotency-Key": '"unterminated'}))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _events(api) == size


async def _race(app_a, app_b, token: str, body: str, key: str, n: int = 6) -> list[httpx.Response]:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f'"{key}"', "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app_a), base_url="http://a") as a, \
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app_b), base_url="http://b") as b:
        calls = [(a if i % 2 else b).post("/v1/custody-records", content=body, headers=headers) for i in range(n)]
        return await asyncio.gather(*calls)


def test_concurrent_identical_posts_from_two_clients_record_one_event_set(api: Api, db_url: str) -> None:
    """Two app instances (two workers, each with its own store) get the same POST at once."""
    from accord.api.app import create_app
    from accord.service.store import Store
    from accord.settings import Settings

    settings = Settings(database_url=db_url, rate_limit="100000/minute")
    with Store.open(db_url) as other:
        app_a = create_app(settings, store=api.store)
        app_b = create_app(settings, store=other)
        for n in range(1, 4):
            before = _events(api)
            got = asyncio.run(_race(app_a, app_b, api.tokens["jail"], json.dumps(custody_body(n)), f"race-{n}"))
            assert {r.status_code for r in got} == {201}, [r.text for r in got]
            assert len({r.content for r in got}) == 1
            assert sum("idempotent-replayed" not in r.headers for r in got) == 1
            assert _events(api) == before + 2  # person.registered + custody.booked, once
    assert [e.stream for e in api.store.ledger.events(kind="custody.booked")] == ["booking/bk-1", "booking/bk-2",
                                                                                 "booking/bk-3"]
