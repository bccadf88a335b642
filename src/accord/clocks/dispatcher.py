"""The dispatcher: delivers the outbox — signed webhooks to agencies, letters rendered for printing.

A delivery is *claimed* in a short transaction of its own (rows read ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so dispatchers in several processes never take the same one): its attempt is counted
and its next attempt pushed past the request's time limit, which is its lease — a dispatcher that
dies mid-request leaves the delivery to be tried again when the lease ends, with the same
``webhook-id``. Requests then run concurrently (asyncio), and their outcomes are *recorded* in one
unit of work per group: delivered; retried later (backoff with jitter, ``Retry-After`` honoured);
or, once the retry window is spent, given up as ``delivery.failed`` in the ledger (dead letter).
A 410 disables the endpoint. A delivery that discharges a notice records ``notice.sent``. Delivery
is therefore at least once; a receiver de-duplicates on ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from accord.domain import NoticeSent
from accord.domain.clocks import DeliveryFailed
from accord.domain.events import EventKind
from accord.ledger import NewEvent
from accord.ledger.db import write_transaction
from accord.service import schema as rm
from accord.service.store import Store, UnitOfWork

from . import schema
from .addresses import Resolver, system_resolver
from .backoff import Policy
from .letters import render_pending
from .sealing import SealError, key_file, unseal
from .sender import Outcome, attempt, client
from .sql import moment, stamp

log = logging.getLogger("accord.clocks.dispatcher")
d_t, m_t, e_t = schema.deliveries, schema.messages, schema.endpoints
ACTOR = "system:clocks"


@dataclass(frozen=True, slots=True)
class Claim:
    message_id: str
    endpoint_id: str
    attempts: int  # this attempt's number (from 1)
    first_attempt_at: datetime
    type: str = ""
    agency_id: str = ""
    event_seq: int = 0
    notice_id: str | None = None
    body: str = ""
    url: str | None = None
    secret: str | None = None
    refused: str | None = None  # a reason not to send at all (endpoint gone or disabled)
    held: str | None = None  # a reason not to send this time, retried like a failure (its secret does not open here)


@dataclass(frozen=True)
class Config:
    policy: Policy = Policy()
    timeout: float = 15.0
    concurrency: int = 32
    allow_loopback: bool = False
    lease_seconds: float = 60.0

    @classmethod
    def from_settings(cls) -> Config:
        from accord.settings import get_settings

        s = get_settings()
        return cls(Policy(s.webhook_backoff_base_seconds, s.webhook_backoff_cap_seconds,
                          timedelta(seconds=s.webhook_retry_window_seconds)),
                   s.webhook_timeout_seconds, s.webhook_concurrency, s.webhook_allow_loopback_http, s.webhook_lease_seconds)

    @property
    def lease(self) -> timedelta:
        """How long a claimed delivery is left to its dispatcher: never less than the time limit and a second."""
        return timedelta(seconds=max(self.lease_seconds, self.timeout + 1))


class Dispatcher:
    def __init__(self, store: Store, config: Config | None = None, *, resolver: Resolver = system_resolver,
                 rng: random.Random | None = None) -> None:
        self.store = store
        self.config = config or Config.from_settings()
        self.resolver = resolver
        self.rng = rng or random.Random()
        self.sent = 0  # attempts made by this dispatcher

    # -- the database side (sync; the async loop runs these in a worker thread) -------------------
    def claim(self, limit: int, now: datetime | None = None) -> list[Claim]:
        """Take up to ``limit`` due deliveries for this dispatcher (their lease starts now)."""
        now = now or self.store.clock()
        due = self.next_due()  # a plain read first: a write transaction only when something is due
        if due is None or due > now:
            return []
        with write_transaction(self.store.engine) as conn:
            rows = conn.execute(
                sa.select(d_t.c.message_id, d_t.c.endpoint_id, d_t.c.attempts, d_t.c.first_attempt_at)
                .where(d_t.c.state == schema.PENDING, d_t.c.next_attempt_at <= stamp(now))
                .order_by(d_t.c.next_attempt_at).limit(limit).with_for_update(skip_locked=True)).all()
            if not rows:
                return []
            conn.execute(d_t.update().where(d_t.c.message_id == sa.bindparam("m"), d_t.c.endpoint_id == sa.bindparam("e"))
                         .values(attempts=d_t.c.attempts + 1, last_attempt_at=stamp(now),
                                 first_attempt_at=sa.func.coalesce(d_t.c.first_attempt_at, stamp(now)),
                                 next_attempt_at=stamp(now + self.config.lease)),
                         [{"m": r.message_id, "e": r.endpoint_id} for r in rows])
            mids = sorted({r.message_id for r in rows})
            msgs = {m.message_id: m for m in conn.execute(sa.select(m_t).where(m_t.c.message_id.in_(mids)))}
            eps = {e.endpoint_id: e for e in conn.execute(
                sa.select(e_t).where(e_t.c.endpoint_id.in_(sorted({r.endpoint_id for r in rows}))))}
        out = []
        key = key_file(self.store.engine)  # once per claim, not per delivery (on PostgreSQL it reads the ledger's id)
        for r in rows:
            m, e = msgs[r.message_id], eps.get(r.endpoint_id)
            refused = secret = held = None
            if e is None:
                refused = "the endpoint was removed"
            elif e.state != schema.ACTIVE:
                refused = f"the endpoint is disabled ({e.disabled_reason or 'by its agency'})"
            else:
                try:
                    secret = unseal(key, e.endpoint_id, e.secret)
                except SealError as err:
                    held = str(err)
                    log.warning("delivery %s to %s held: %s", r.message_id, r.endpoint_id, held)
            out.append(Claim(r.message_id, r.endpoint_id, r.attempts + 1, moment(r.first_attempt_at) or now, m.type,
                             m.agency_id, m.event_seq, m.notice_id, m.body, e.url if e else None, secret, refused, held))
        return out

    def record(self, results: list[tuple[Claim, Outcome, datetime]]) -> None:
        """Write the outcomes of finished attempts (one unit of work; ledger events where owed)."""
        if not results:
            return
        with self.store.transaction() as uow:
            events: list[NewEvent] = []
            sent_notices: set[str] = set()
            disabled: dict[str, str] = {}
            for claim, outcome, at in results:
                key = (d_t.c.message_id == claim.message_id) & (d_t.c.endpoint_id == claim.endpoint_id) & \
                      (d_t.c.state == schema.PENDING)
                if outcome.ok:
                    uow.connection.execute(d_t.update().where(key).values(
                        state=schema.DELIVERED, delivered_at=stamp(at), last_status=outcome.status, last_error=None))
                    if claim.notice_id and claim.notice_id not in sent_notices:
                        ev = self._notice_sent(uow, claim.notice_id, at)
                        if ev is not None:
                            events.append(ev)
                            sent_notices.add(claim.notice_id)
                    continue
                reason = outcome.reason[:300]
                nxt = None if (outcome.gone or claim.refused) else self.config.policy.next_attempt(
                    claim.first_attempt_at, at, claim.attempts, self.rng, outcome.retry_after)
                if nxt is not None:
                    uow.connection.execute(d_t.update().where(key).values(
                        next_attempt_at=stamp(nxt), last_status=outcome.status, last_error=reason))
                    continue
                if outcome.gone:
                    reason = "answered 410 Gone: the endpoint is disabled"
                    disabled[claim.endpoint_id] = reason
                got = uow.connection.execute(d_t.update().where(key).values(
                    state=schema.FAILED, last_status=outcome.status, last_error=reason))
                if got.rowcount:
                    events.append(self._failed(claim, reason, at))
            for endpoint_id, reason in disabled.items():
                events += self._disable(uow, endpoint_id, reason, results[-1][2])
            if events:
                uow.append(events)
            self._settle(uow, sorted({c.message_id for c, _, _ in results}))

    def _notice_sent(self, uow: UnitOfWork, notice_id: str, at: datetime) -> NewEvent | None:
        n = uow.row(rm.notices, notice_id)
        if n is None or n["state"] != "owed":
            return None
        sent = NoticeSent(notice_id=notice_id, sent_at=at, channel="webhook", recorded_by=ACTOR)
        return NewEvent(EventKind.NOTICE_SENT.value, sent, None, n["due_seq"])

    def _failed(self, claim: Claim, reason: str, at: datetime) -> NewEvent:
        payload = DeliveryFailed(message_id=claim.message_id, type=claim.type, agency_id=claim.agency_id,
                                 endpoint_id=claim.endpoint_id, attempts=claim.attempts, reason=reason,
                                 first_attempt_at=claim.first_attempt_at, failed_at=at)
        return NewEvent(EventKind.DELIVERY_FAILED.value, payload, None, claim.event_seq)

    def _disable(self, uow: UnitOfWork, endpoint_id: str, reason: str, at: datetime) -> list[NewEvent]:
        """A 410: the endpoint gets nothing more; what was still waiting for it is given up."""
        conn = uow.connection
        conn.execute(e_t.update().where(e_t.c.endpoint_id == endpoint_id, e_t.c.state == schema.ACTIVE)
                     .values(state=schema.DISABLED, disabled_reason=reason, disabled_at=stamp(at)))
        waiting = conn.execute(sa.select(d_t.c.message_id, d_t.c.attempts, d_t.c.first_attempt_at, m_t.c.type,
                                         m_t.c.agency_id, m_t.c.event_seq)
                               .join(m_t, m_t.c.message_id == d_t.c.message_id)
                               .where(d_t.c.endpoint_id == endpoint_id, d_t.c.state == schema.PENDING)).all()
        conn.execute(d_t.update().where(d_t.c.endpoint_id == endpoint_id, d_t.c.state == schema.PENDING)
                     .values(state=schema.FAILED, last_error="not sent: the endpoint was disabled (410 Gone)"))
        why = "not sent: the endpoint was disabled (410 Gone)"
        return [self._failed(Claim(w.message_id, endpoint_id, w.attempts, moment(w.first_attempt_at) or at, w.type,
                                   w.agency_id, w.event_seq), why, at) for w in waiting]

    def _settle(self, uow: UnitOfWork, message_ids: list[str]) -> None:
        """A message whose deliveries are all delivered or given up is ``sent`` (see its deliveries)."""
        open_ = {r[0] for r in uow.connection.execute(
            sa.select(d_t.c.message_id).where(d_t.c.message_id.in_(message_ids), d_t.c.state == schema.PENDING))}
        done = [m for m in message_ids if m not in open_]
        if done:
            uow.connection.execute(m_t.update().where(m_t.c.message_id.in_(done), m_t.c.state == schema.PENDING)
                                   .values(state=schema.SENT))

    def next_due(self) -> datetime | None:
        with self.store.engine.connect() as conn:
            return moment(conn.execute(sa.select(sa.func.min(d_t.c.next_attempt_at))
                                       .where(d_t.c.state == schema.PENDING)).scalar())

    # -- the network side ---------------------------------------------------------------------
    async def _send(self, http: object, claim: Claim) -> tuple[Claim, Outcome, datetime]:
        if claim.refused is not None or claim.held is not None:
            return claim, Outcome(error=claim.refused or claim.held), self.store.clock()
        now = self.store.clock()
        outcome = await attempt(http, claim.url, claim.message_id, claim.body, claim.secret,  # type: ignore[arg-type]
                                int(now.timestamp()), self.config.timeout)
        self.sent += 1
        return claim, outcome, self.store.clock()

    def _client(self):  # -> httpx.AsyncClient
        return client(allow_loopback=self.config.allow_loopback, timeout=self.config.timeout, resolver=self.resolver,
                      max_connections=max(self.config.concurrency, 1))

    async def deliver_due(self, now: datetime | None = None) -> int:
        """Deliver everything due now, in rounds, until nothing is due; returns the attempts made (tests, tools)."""
        made = 0
        async with self._client() as http:
            while True:
                await asyncio.to_thread(render_pending, self.store)
                claims = await asyncio.to_thread(self.claim, self.config.concurrency, now)
                if not claims:
                    return made
                results = await asyncio.gather(*(self._send(http, c) for c in claims))
                await asyncio.to_thread(self.record, list(results))
                made += len(claims)

    async def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Deliver as deliveries come due until ``stop`` is set; errors are logged, the loop goes on."""
        inflight: set[asyncio.Task] = set()
        async with self._client() as http:
            while not stop.is_set():
                try:
                    await asyncio.to_thread(render_pending, self.store)
                except Exception:  # noqa: BLE001 - letters failing must not hold up the webhooks
                    log.exception("rendering letters failed; retrying")
                try:
                    free = self.config.concurrency - len(inflight)
                    claims = await asyncio.to_thread(self.claim, free) if free > 0 else []
                    inflight |= {asyncio.create_task(self._send(http, c)) for c in claims}
                    if inflight:
                        done, inflight = await asyncio.wait(inflight, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
                        await asyncio.to_thread(self.record, [t.result() for t in done])
                    else:
                        due = await asyncio.to_thread(self.next_due)
                        wait = poll if due is None else min(poll, max(0.0, (due - self.store.clock()).total_seconds()))
                        await asyncio.sleep(wait)
                except Exception:  # noqa: BLE001 - a dispatcher that stops delivers nothing
                    log.exception("dispatcher round failed; retrying")
                    await asyncio.sleep(poll)
            if inflight:  # finish what is on the wire (its outcome is recorded; else the lease resends it)
                done, _ = await asyncio.wait(inflight, timeout=self.config.timeout + 1)
                try:
                    await asyncio.to_thread(self.record, [t.result() for t in done])
                except Exception:  # noqa: BLE001
                    log.exception("could not record the last outcomes; their leases will resend them")
