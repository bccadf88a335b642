"""Tokens, scopes and tenancy: 401 for a bad token, 403 for a missing scope, 404 for another agency's object."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest

from accord.api import tokens
from accord.api.logs import JsonFormatter
from helpers.api_world import Api, custody_body, detainer_body, make_api, record_body


def _setup(api: Api) -> None:
    assert api.post("jail", "/v1/custody-records", custody_body(1)).status_code == 201
    assert api.post("ice", "/v1/detainers", detainer_body(1)).status_code == 201
    assert api.post("dmv", "/v1/record-requests", record_body(1, requester="nypd")).status_code == 201


def test_agency_b_cannot_read_list_or_guess_agency_a_objects(api: Api) -> None:
    _setup(api)
    for path in ("/v1/detainers/det-1", "/v1/custody-records/bk-1", "/v1/detainers/det-404"):
        r = api.get("police", path)
        assert r.status_code == 404, path
    # a guessed id and a real one look the same to a stranger
    real, guessed = api.get("police", "/v1/detainers/det-1").json(), api.get("police", "/v1/detainers/det-404").json()
    assert real["detail"].replace("det-1", "X") == guessed["detail"].replace("det-404", "X")
    assert api.get("police", "/v1/detainers").json()["items"] == []
    assert api.get("ice", "/v1/record-requests").json()["items"] == []
    assert api.get("ice", "/v1/record-requests/rr-1").status_code == 404
    assert api.get("police", "/v1/detainers", params={"after": "det-1"}).status_code == 422  # no cursor to probe with
    assert api.get("police", "/v1/detainers", params={"booking_id": "bk-1"}).json()["items"] == []
    # nor write on them: the police cannot release the jail's prisoner, nor lift ICE's detainer
    rel = {"booking_id": "bk-1", "person_id": "p-1", "released_at": "2024-03-09T12:00:00Z", "reason": "bail_posted"}
    assert api.post("police", "/v1/releases", rel).status_code == 404
    assert api.post("police", "/v1/detainers/det-1/lift", {"lifted_at": "2024-03-05T10:00:00Z"}).status_code == 404
    assert api.get("ice", "/v1/detainers/det-1").json()["state"] == "holding"


def test_an_agency_cannot_submit_for_another(api: Api) -> None:
    r = api.post("ice", "/v1/custody-records", custody_body(2))
    assert r.status_code == 404
    r = api.post("police", "/v1/detainers", detainer_body(1))
    assert r.status_code == 404
    r = api.post("police", "/v1/record-requests", record_body(5, requester="ice"))
    assert r.status_code == 404
    r = api.post("police", "/v1/record-requests", {**record_body(6), "notice_would_impede_investigation": True})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notice_would_impede_investigation"


def test_the_auditor_reads_everything_and_writes_nothing(api: Api) -> None:
    _setup(api)
    assert api.get("auditor", "/v1/detainers/det-1").status_code == 200
    assert [d["request_id"] for d in api.get("auditor", "/v1/detainers").json()["items"]] == ["det-1"]
    assert api.get("auditor", "/v1/record-requests/rr-1").status_code == 200
    size = api.store.ledger.size
    for path, body in [("/v1/custody-records", custody_body(3)), ("/v1/detainers", detainer_body(3)),
                       ("/v1/detainers/det-1/lift", {"lifted_at": "2024-03-05T10:00:00Z"}),
                       ("/v1/record-requests", record_body(9))]:
        r = api.post("auditor", path, body)
        assert r.status_code == 403 and r.json()["type"] == "urn:accord:problem:missing-scope", path
    assert api.store.ledger.size == size
    with pytest.raises(Exception, match="auditor"):
        tokens.issue(api.store.engine, None, {"auditor", "submit"}, now=datetime.now(timezone.utc))


def test_a_read_only_token_gets_403_on_a_write(api: Api) -> None:
    r = api.post("reader", "/v1/detainers", detainer_body(1))
    assert r.status_code == 403 and "submit" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/custody-records", "/v1/releases", "/v1/detainers", "/v1/detainers/det-1/lift",
                                  "/v1/detainers/det-1/cancel", "/v1/record-requests", "/v1/notices/n-1/sent",
                                  "/v1/webhooks"])
@pytest.mark.parametrize("who", ["auditor", "reader"])
def test_a_token_that_may_not_write_is_told_so_before_its_body_is_read(api: Api, who: str, path: str) -> None:
    """A missing scope is a 403 whatever the body holds: not a 422 that teaches a caller who may not
    write how to shape a write (the scope is checked before the body is parsed)."""
    for body in ({}, {"unknown": 1}):
        r = api.post(who, path, body)
        assert r.status_code == 403 and r.json()["type"] == "urn:accord:problem:missing-scope", (path, r.text)
    r = api.client.post(path, content=b"{not json", headers=api.as_(who, **{"Content-Type": "application/json"}))
    assert r.status_code == 403, r.text


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer acc_0123456789ab_" + "x" * 43])
def test_missing_or_bad_tokens_get_401(api: Api, header: str | None) -> None:
    r = api.client.get("/v1/detainers", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"


def test_revoked_expired_and_rotated_tokens(api: Api) -> None:
    now = datetime.now(timezone.utc)
    tokens.revoke(api.store.engine, api.token_ids["ice"], now=now)
    assert api.get("ice", "/v1/detainers").status_code == 401
    _, short = tokens.issue(api.store.engine, "ice", {"read"}, now=now - timedelta(hours=2),
                            expires_at=now - timedelta(hours=1) + timedelta(hours=2))
    assert api.client.get("/v1/detainers", headers={"Authorization": f"Bearer {short}"}).status_code == 200
    engine = api.store.engine
    with engine.begin() as conn:  # its expiry passes
        conn.execute(tokens.schema.tokens.update().values(expires_at="2000-01-01T00:00:00.000000Z")
                     .where(tokens.schema.tokens.c.token_id == tokens.split(short)))
    assert api.client.get("/v1/detainers", headers={"Authorization": f"Bearer {short}"}).status_code == 401
    new, fresh = tokens.rotate(engine, api.token_ids["jail"], now=now)
    assert new.replaces == api.token_ids["jail"] and new.scopes == frozenset({"submit", "read", "officer"})
    assert api.get("jail", "/v1/detainers").status_code == 401
    assert api.client.get("/v1/detainers", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    stored = {r.token_id: r for r in tokens.list_tokens(engine)}
    assert all(fresh not in json.dumps(r.to_dict(now)) for r in stored.values())


def test_rate_limit_answers_429_with_retry_after(db_url: str) -> None:
    for api in make_api(db_url, rate_limit="3/minute"):
        codes = [api.get("ice", "/v1/detainers").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = api.get("ice", "/v1/detainers")
        assert int(r.headers["retry-after"]) >= 1 and r.json()["status"] == 429
        assert api.get("jail", "/v1/detainers").status_code == 200  # per token


def test_no_token_nor_personal_field_ever_reaches_a_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _setup(api)
    api.get("ice", "/v1/detainers/det-1")
    api.post("ice", "/v1/detainers", {**detainer_body(1), "oops": True})
    api.client.get("/v1/detainers", headers={"Authorization": "Bearer " + api.tokens["ice"][:-2]})
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert any('"token_id":"%s"' % api.token_ids["ice"] in line for line in lines)
    assert any('"seqs":[' in line for line in lines)
    text = "\n".join(lines)
    for secret in (*api.tokens.values(), "Zedekiah", "1990-01-02", api.tokens["ice"][:-2]):
        assert secret not in text
    for line in lines:
        assert set(json.loads(line)) <= {"ts", "level", "logger", "msg", "request_id", "token_id", "seqs", "method",
                                         "route", "status", "duration_ms", "error"}


def test_every_answer_names_its_request_and_the_log_line_carries_the_same_id(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="accord.api.access")
    answers = [api.client.get("/health"), api.post("jail", "/v1/custody-records", custody_body(1)),
               api.client.get("/v1/detainers"),  # a 401 is named too
               api.client.get("/health", headers={"X-Request-Id": "lb-7f3a.2"}),  # a load balancer's id is kept
               api.client.get("/health", headers={"X-Request-Id": "bad id; drop table"})]  # an unsafe one is not
    ids = [r.headers["x-request-id"] for r in answers]
    assert ids[3] == "lb-7f3a.2"
    own = ids[:3] + ids[4:]
    assert len(set(own)) == len(own) and all(len(i) == 32 and int(i, 16) >= 0 for i in own)
    logged = [r.request_id for r in caplog.records if r.name == "accord.api.access"]
    assert logged == ids


def test_a_forked_process_draws_request_ids_of_its_own() -> None:
    import os

    from accord.api.logs import new_request_id

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write one id and leave at once
        os.write(write, new_request_id().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    parent = new_request_id()
    assert len(child) == len(parent) == 32 and child[:16] != parent[:16]
