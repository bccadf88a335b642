"""Webhooks to agencies: registered safely, signed as Standard Webhooks says, retried, given up, disabled.

Every receiver here runs on 127.0.0.1 in the test process; addresses elsewhere are only ever
checked, never connected to (a fake resolver stands for DNS).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accord.clocks import schema
from accord.clocks.backoff import Policy
from accord.clocks.dispatcher import Config, Dispatcher
from accord.clocks.views import overview
from accord.clocks.webhooks import list_endpoints, register
from accord.errors import InputError
from accord.service.actors import Actor
from accord.service.detainers import submit_custody, submit_detainer
from accord.service.store import Store
from helpers.receiver import Receiver
from helpers.service_world import ICE, JAIL, agency_actor, booking, detainer, world

ice, jail = agency_actor(ICE), agency_actor(JAIL)
FAST = Config(policy=Policy(base=60, cap=3 * 3600, window=timedelta(hours=24)), timeout=20.0, allow_loopback=True)


class Clock:
    """A store clock the test moves (it starts now: new deliveries are due at their event's recorded time)."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.at


def _store(db_url: str, clock=None) -> Store:
    store = Store.open(db_url, clock=clock or (lambda: datetime.now(timezone.utc)))
    world(store)
    return store


def _endpoint(store: Store, url: str, actor=ice, **kw):
    with store.transaction() as uow:
        return register(uow, actor, url, **kw)


def _detain(store: Store, n: int = 1) -> None:
    with store.transaction() as uow:
        submit_custody(uow, jail, *booking(n))
    with store.transaction() as uow:
        submit_detainer(uow, ice, detainer(n))


def _deliver(store: Store, config: Config = FAST, **kw) -> int:
    return asyncio.run(Dispatcher(store, config, **kw).deliver_due())


def _deliveries(store: Store) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(schema.deliveries).order_by(schema.deliveries.c.message_id))]


# -- registration -------------------------------------------------------------------------------

@pytest.mark.parametrize("url, why", [
    ("http://ice.example/hook", "must be https"),
    ("https://10.0.0.7/hook", "10.0.0.7, a private address"),
    ("https://192.168.1.20/hook", "a private address"),
    ("https://169.254.169.254/latest", "a link-local address"),
    ("https://[::1]/hook", "a loopback address"),
    ("https://127.0.0.2/hook", "a loopback address"),
    ("https://user:pw@ice.example/hook", "must not carry credentials"),
    ("ftp://ice.example/x", "https:// URL"),
    ("https://inside.example/hook", "resolves to 10.1.2.3"),
    ("https://nowhere.example/hook", "does not resolve"),
])
def test_a_url_that_is_not_https_to_a_public_address_is_refused_naming_why(sqlite_url: str, url: str, why: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        if host == "nowhere.example":
            raise OSError("no such host")
        return {"inside.example": ["93.184.215.14", "10.1.2.3"]}.get(host, ["93.184.215.14"])

    with _store(sqlite_url) as store:
        with pytest.raises(InputError, match=why) as exc:
            with store.transaction() as uow:
                register(uow, ice, url, resolver=resolver, allow_loopback=False)
        assert exc.value.field == "url"
        with store.reading() as r:
            assert list_endpoints(r, Actor.operator()) == []


def test_registration_shows_the_secret_once_and_an_agency_registers_only_for_itself(sqlite_url: str) -> None:
    with _store(sqlite_url) as store:
        ep = _endpoint(store, "https://ice.example/hook", resolver=lambda h, p: ["93.184.215.14"], allow_loopback=False,
                       event_types=["detainer.*"])
        assert ep.secret.startswith("whsec_") and len(Webhook(ep.secret)._whsecret) == 32
        with store.reading() as r:
            listed = list_endpoints(r, ice)
            assert [e.endpoint_id for e in listed] == [ep.endpoint_id] and "secret" not in listed[0].model_dump()
            assert list_endpoints(r, jail) == []
        from accord.errors import NotFoundError

        with pytest.raises(NotFoundError):
            with store.transaction() as uow:
                register(uow, ice, "https://ice.example/x", agency_id=JAIL, resolver=lambda h, p: ["93.184.215.14"])
        with pytest.raises(InputError, match="event_types\\[0\\]"):
            _endpoint(store, "https://ice.example/hook", resolver=lambda h, p: ["93.184.215.14"], event_types=["Bad Type"])


# -- signatures ---------------------------------------------------------------------------------

def test_a_receiver_verifying_with_the_reference_library_accepts_ours_and_refuses_tampering(db_url: str) -> None:
    with Receiver() as rx, _store(db_url, clock=lambda: datetime.now(timezone.utc)) as store:
        ep = _endpoint(store, rx.url + "/ice")
        _detain(store)
        assert _deliver(store) == 1
        (got,) = rx.got
        hook = Webhook(ep.secret)  # the Standard Webhooks reference implementation (PyPI standardwebhooks)
        payload = hook.verify(got.body, got.headers)
        assert payload["type"] == "detainer.decided" and payload["data"]["request_id"] == "det-1"
        assert got.id.startswith("msg_") and "." not in got.id
        with pytest.raises(WebhookVerificationError):
            hook.verify(got.body.replace("holding", "declined"), got.headers)
        old = dict(got.headers, **{"webhook-timestamp": str(int(time.time()) - 600)})
        with pytest.raises(WebhookVerificationError, match="too old"):
            hook.verify(got.body, old)
        with pytest.raises(WebhookVerificationError):  # another endpoint's secret
            Webhook(_endpoint(store, rx.url + "/other").secret).verify(got.body, got.headers)
        assert _spec_verify(ep.secret, got.headers, got.body)


def _spec_verify(secret: str, headers: dict[str, str], body: str) -> bool:
    """The spec's algorithm, written from its text: HMAC-SHA256 over id.timestamp.body, v1,<base64>."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body}".encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(v == "v1" and hmac.compare_digest(s, expected)
               for v, s in (sig.split(",", 1) for sig in headers["webhook-signature"].split(" ")))


# -- failures -----------------------------------------------------------------------------------

def test_a_failing_receiver_is_retried_with_backoff_for_24_hours_then_dead_lettered(db_url: str) -> None:
    clock = Clock()
    with Receiver(lambda *a: (500, {})) as rx, _store(db_url, clock) as store:
        _endpoint(store, rx.url + "/down")
        _detain(store)
        clock.at = datetime.now(timezone.utc)
        waits = []
        while True:
            _deliver(store)
            (d,) = _deliveries(store)
            if d["state"] != "pending":
                break
            nxt = datetime.fromisoformat(d["next_attempt_at"].replace("Z", "+00:00"))
            waits.append((nxt - clock.at).total_seconds())
            clock.at = nxt
        assert d["state"] == "failed" and d["last_status"] == 500 and d["last_error"] == "answered 500"
        first = datetime.fromisoformat(d["first_attempt_at"].replace("Z", "+00:00"))
        assert clock.at - first >= timedelta(hours=24)  # retried for at least the whole window
        assert len(rx.got) == d["attempts"] == len(waits) + 1 and len(rx.ids()) == 1  # one id, every attempt
        assert waits[0] < waits[1] < waits[2] < waits[3] and max(waits) <= 3 * 3600  # exponential, capped
        (ev,) = list(store.ledger.events(kind="delivery.failed"))
        assert ev.payload["attempts"] == d["attempts"] and ev.payload["reason"] == "answered 500"
        with store.reading() as r:
            failed = overview(r, ice).failed
        assert [(f.type, f.reason) for f in failed] == [("detainer.decided", "answered 500")]
        with store.engine.connect() as conn:  # the custodian's officers are alerted (they have no endpoint: listed)
            assert conn.execute(sa.select(schema.messages.c.type).where(
                schema.messages.c.type == "alert.delivery_failed")).scalar() == "alert.delivery_failed"


def test_a_receiver_that_answers_410_is_disabled_and_gets_nothing_more(db_url: str) -> None:
    with Receiver(lambda *a: (410, {})) as rx, _store(db_url) as store:
        ep = _endpoint(store, rx.url + "/gone")
        _detain(store)
        _deliver(store)
        _detain(store, 2)
        _deliver(store)
        assert len(rx.got) == 1
        with store.reading() as r:
            (view,) = list_endpoints(r, ice)
        assert view.endpoint_id == ep.endpoint_id and view.state == "disabled" and "410" in view.disabled_reason
        assert [d["state"] for d in _deliveries(store)] == ["failed"]  # the second message had nowhere to go
        with store.engine.connect() as conn:
            states = [r[0] for r in conn.execute(sa.select(schema.messages.c.state).where(
                schema.messages.c.agency_id == ICE).order_by(schema.messages.c.event_seq))]
        assert states == ["sent", "no_endpoint"]


def test_a_receiver_that_times_out_is_retried_and_the_dispatcher_goes_on(db_url: str) -> None:
    def slow(path, headers, body):
        if path == "/slow":
            time.sleep(8)
        return 200, {}

    with Receiver(slow) as rx, _store(db_url) as store:
        _endpoint(store, rx.url + "/slow")
        _endpoint(store, rx.url + "/fast")
        _detain(store)
        started = time.monotonic()
        _deliver(store, Config(policy=FAST.policy, timeout=3.0, allow_loopback=True))
        assert time.monotonic() - started < 8  # the time limit, not the receiver, ends the attempt
        by_path = {d["endpoint_id"]: d for d in _deliveries(store)}
        states = sorted((d["state"], d["last_error"] or "") for d in by_path.values())
        assert states == [("delivered", ""), ("pending", "no answer within 3 s (timed out)")]


def test_a_redirect_is_not_followed_and_an_unreachable_receiver_is_retried(db_url: str) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed_port = s.getsockname()[1]
    s.close()
    with Receiver(lambda *a: (302, {"location": "https://10.0.0.1/steal"})) as rx, _store(db_url) as store:
        _endpoint(store, rx.url + "/moved")
        _endpoint(store, f"http://127.0.0.1:{closed_port}/nothing")
        _detain(store)
        _deliver(store)
        assert len(rx.got) == 1 and rx.got[0].path == "/moved"
        reasons = sorted(d["last_error"] for d in _deliveries(store))
        assert reasons[0].startswith("ConnectError") and "redirect, not followed" in reasons[1]
        assert all(d["state"] == "pending" for d in _deliveries(store))


def test_an_address_that_changes_after_registration_is_refused_at_delivery(sqlite_url: str) -> None:
    """DNS rebinding: the name resolved to a public address when registered, to a private one now."""
    answers = {"n": 0}

    def rebinding(host: str, port: int) -> list[str]:
        answers["n"] += 1
        return ["93.184.215.14"] if answers["n"] == 1 else ["10.0.0.5"]

    with _store(sqlite_url) as store:
        _endpoint(store, "https://rebind.example/hook", resolver=rebinding, allow_loopback=False)
        _detain(store)
        _deliver(store, Config(policy=FAST.policy, timeout=5.0, allow_loopback=False), resolver=rebinding)
        (d,) = _deliveries(store)
        assert d["state"] == "pending" and "refused to connect to rebind.example: 10.0.0.5 (a private address)" in d["last_error"]


def test_outbox_rows_commit_with_their_event_or_not_at_all(sqlite_url: str) -> None:
    with Receiver() as rx, _store(sqlite_url) as store:
        _endpoint(store, rx.url + "/ice")
        with store.transaction() as uow:
            submit_custody(uow, jail, *booking(1))
        with pytest.raises(RuntimeError):
            with store.transaction() as uow:
                submit_detainer(uow, ice, detainer(1))
                raise RuntimeError("crash before commit")
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar() == 0
            assert conn.execute(sa.select(sa.func.count()).select_from(schema.jobs)).scalar() == 0
        assert list(store.ledger.events(kind="decision.made")) == []
