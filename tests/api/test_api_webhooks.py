"""``/v1/webhooks`` and ``/v1/clocks``: an agency registers where it is told, sees what failed, and sees the clocks
of the detainers it may see — no more (NYC §9-131-style silence toward an issuer applies here too)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from accord.clocks.dispatcher import Config, Dispatcher
from accord.domain import Agency
from accord.service.actors import Actor
from accord.service.agencies import register_agency
from accord.service.detainers import submit_custody, submit_detainer
from helpers.api_world import Api, custody_body, detainer_body, make_api
from helpers.receiver import Receiver
from helpers.service_world import ICE, agency_actor, booking, detainer, model

HOOKS = "/v1/webhooks"


@pytest.fixture
def local(db_url: str) -> Iterator[Api]:
    """The API with http://127.0.0.1 receivers allowed (ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP)."""
    yield from make_api(db_url, webhook_allow_loopback_http=True)


def _detain_via_api(api: Api, n: int, warrant: bool = True) -> None:
    got = api.post("jail", "/v1/custody-records", custody_body(n))
    assert got.status_code == 201, got.text
    got = api.post("ice", "/v1/detainers", detainer_body(n, warrant=warrant))
    assert got.status_code == 201, got.text


def _deliver(api: Api) -> None:
    asyncio.run(Dispatcher(api.store, Config(timeout=20.0, allow_loopback=True)).deliver_due())


def test_an_agency_registers_an_endpoint_sees_its_secret_once_and_only_its_own(local: Api) -> None:
    body = {"url": "http://127.0.0.1:9/ice", "event_types": ["detainer.*"], "description": "ICE ERO intake"}
    refused = local.post("ice", HOOKS, {**body, "url": "https://10.0.0.8/ice"}, key="ep-1")
    assert refused.status_code == 422  # it committed nothing, its key included: the corrected retry may reuse it
    first = local.post("ice", HOOKS, body, key="ep-1")
    assert first.status_code == 201, first.text
    ep = first.json()
    assert ep["secret"].startswith("whsec_") and ep["agency_id"] == ICE and ep["state"] == "active"
    again = local.post("ice", HOOKS, body, key="ep-1")  # a retry: the same endpoint, not a second one
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    # the same endpoint, but the secret is shown once: it is not kept with the stored response either
    assert again.json() == {**ep, "secret": again.json()["secret"]} and ep["secret"] not in again.text
    import sqlalchemy as sa

    with local.store.engine.connect() as c:
        kept = " ".join(r[0] for r in c.execute(sa.text("SELECT body FROM api_idempotency")))
    assert ep["secret"] not in kept

    listed = local.get("ice", HOOKS)
    assert listed.status_code == 200 and [e["endpoint_id"] for e in listed.json()] == [ep["endpoint_id"]]
    assert ep["secret"] not in listed.text and "secret" not in listed.json()[0]
    one = local.get("ice", f"{HOOKS}/{ep['endpoint_id']}")
    assert one.status_code == 200 and ep["secret"] not in one.text
    audited = local.get("auditor", HOOKS)
    assert [e["endpoint_id"] for e in audited.json()] == [ep["endpoint_id"]] and ep["secret"] not in audited.text

    # another agency: nothing listed, and the endpoint is not found (never a 403 to probe with)
    assert local.get("jail", HOOKS).json() == []
    for got in (local.get("jail", f"{HOOKS}/{ep['endpoint_id']}"),
                local.get("jail", f"{HOOKS}/{ep['endpoint_id']}/deliveries"),
                local.client.delete(f"{HOOKS}/{ep['endpoint_id']}", headers=local.as_("jail"))):
        assert got.status_code == 404 and got.headers["content-type"] == "application/problem+json", got.text
    refused = local.post("jail", HOOKS, {**body, "agency_id": ICE})  # registering for someone else
    assert refused.status_code == 404 and refused.json()["errors"][0]["field"] == "agency_id"
    assert local.post("reader", HOOKS, body).status_code == 403  # a read-only token registers nothing

    removed = local.client.delete(f"{HOOKS}/{ep['endpoint_id']}", headers=local.as_("ice"))
    assert removed.status_code == 200 and removed.json()["state"] == "disabled"
    assert removed.json()["disabled_reason"] == "removed by its agency"
    assert local.get("ice", HOOKS).json()[0]["state"] == "disabled"


@pytest.mark.parametrize("url, why", [
    ("http://ice.example/hook", "must be https"),
    ("https://10.0.0.8/hook", "10.0.0.8, a private address"),
    ("https://169.254.169.254/latest", "a link-local address"),
    ("http://127.0.0.1:9/hook", "must be https"),  # loopback http only where the server allows it
    ("https://127.0.0.1:9/hook", "a loopback address"),
    ("ftp://ice.example/hook", "must be an https:// URL"),
])
def test_a_url_that_is_not_https_to_a_public_address_is_a_problem_naming_url(api: Api, url: str, why: str) -> None:
    got = api.post("ice", HOOKS, {"url": url}, key="bad-" + url)
    assert got.status_code == 422 and got.headers["content-type"] == "application/problem+json", got.text
    problem = got.json()
    assert [(e["field"], e["location"]) for e in problem["errors"]] == [("url", "body")]
    assert why in problem["detail"]
    assert api.get("ice", HOOKS).json() == []  # nothing half-written
    bad = api.post("ice", HOOKS, {"url": "https://ice.example/h", "event_types": ["Not A Type"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "event_types[0]"
    unknown = api.post("ice", HOOKS, {"url": "https://ice.example/h", "secret": "mine"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "secret"


def test_failed_deliveries_are_shown_to_their_agency_with_the_reason(local: Api) -> None:
    with Receiver(lambda *a: (410, {})) as rx:
        ep = local.post("ice", HOOKS, {"url": rx.url + "/gone"}).json()
        _detain_via_api(local, 1)  # NYC DOC decides: ICE is owed the decision
        _deliver(local)
    assert len(rx.got) == 1
    got = local.get("ice", f"{HOOKS}/{ep['endpoint_id']}/deliveries")
    assert got.status_code == 200, got.text
    (dead,) = got.json()
    assert dead["state"] == "failed" and dead["last_status"] == 410 and "410" in dead["reason"]
    assert dead["message_id"] == rx.got[0].id and dead["next_attempt_at"] is None
    assert local.get("ice", f"{HOOKS}/{ep['endpoint_id']}/deliveries", params={"state": "delivered"}).json() == []
    assert local.get("ice", HOOKS).json()[0]["state"] == "disabled"
    clocks = local.get("ice", "/v1/clocks").json()
    assert [f["message_id"] for f in clocks["failed"]] == [dead["message_id"]]
    assert local.get("police", "/v1/clocks").json()["failed"] == []
    junk = local.get("ice", f"{HOOKS}/{ep['endpoint_id']}/deliveries", params={"state": "lost"})
    assert junk.status_code == 422 and junk.json()["errors"][0]["field"] == "state"


def _california(api: Api, n: int) -> None:
    """A San Francisco detainer: the decision leaves notify_release undetermined, so ICE may not learn custody."""
    store = api.store
    with store.transaction() as uow:
        register_agency(uow, Actor.operator(), model(Agency, {"agency_id": "sf-jail", "name": "SF County Jail (synthetic)",
                                                                "kind": "sheriff", "jurisdiction": "US-CA"}),
                        law_pack="california")
    with store.transaction() as uow:
        submit_custody(uow, agency_actor("sf-jail"), *booking(n, agency_id="sf-jail", jurisdiction="US-CA"))
    with store.transaction() as uow:
        view = submit_detainer(uow, agency_actor(ICE), detainer(n))
    outcomes = {a.action: a.outcome for a in view.decision.actions}
    assert outcomes["notify_release"] not in ("allow", "require"), outcomes


def test_clocks_show_each_agency_the_holds_and_notices_it_may_see(api: Api) -> None:
    _detain_via_api(api, 1)  # NYC DOC holds det-1 for ICE (judicial warrant): it may tell ICE
    _california(api, 4)  # SF: notices to the person about det-4, not for ICE to see
    got = api.get("jail", "/v1/clocks")
    assert got.status_code == 200, got.text
    jail = got.json()
    (hold,) = jail["holds"]
    assert hold["request_id"] == "det-1" and hold["custodian_agency_id"] == "nyc-doc"
    detained = api.get("jail", "/v1/detainers/det-1").json()
    assert hold["hold_until"].replace("+00:00", "Z").startswith(detained["hold_until"][:19])
    assert hold["remaining_seconds"] < 0  # the example's hold (2024) is long past: the next round fires it
    assert {n["about_request_id"] for n in jail["notices"]} == {"det-1"}

    ice = api.get("ice", "/v1/clocks").json()
    assert [h["request_id"] for h in ice["holds"]] == ["det-1"]
    assert {n["about_request_id"] for n in ice["notices"]} == {"det-1"}  # nothing of det-4's custody
    assert "det-4" not in json.dumps(ice)
    audit = api.get("auditor", "/v1/clocks").json()
    assert {n["about_request_id"] for n in audit["notices"]} == {"det-1", "det-4"}
    assert audit["next_job_at"] is not None and ice["next_job_at"] is None
    police = api.get("police", "/v1/clocks").json()
    assert police["holds"] == [] and police["notices"] == [] and police["failed"] == []
    assert api.get("jail", "/v1/clocks", params={"limit": 0}).status_code == 422
    assert api.client.get("/v1/clocks").status_code == 401


def test_notices_show_an_issuer_only_what_the_decision_lets_it_learn(api: Api) -> None:
    # The same rule as /v1/clocks: ICE may see det-1's notices (NYC lets the jail tell it), not det-4's.
    _detain_via_api(api, 1)
    _california(api, 4)
    listed = api.get("ice", "/v1/notices")
    assert listed.status_code == 200, listed.text
    body = json.dumps(listed.json())
    assert "det-4" not in body
    audit = json.dumps(api.get("auditor", "/v1/notices").json())
    assert "det-4" in audit and "det-1" in audit
    hidden = [n for n in api.get("auditor", "/v1/notices").json()["items"] if n["about_request_id"] == "det-4"]
    assert hidden
    assert api.get("ice", f"/v1/notices/{hidden[0]['notice_id']}").status_code == 404
