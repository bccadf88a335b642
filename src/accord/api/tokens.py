"""Per-agency API tokens: random, shown once, kept only as a hash, named by a public id.

A token reads ``acc_<id>_<secret>``: ``<id>`` (12 hex digits) is public and is what logs and
``accord tokens list`` show; ``<secret>`` is 32 random bytes from :mod:`secrets`. The store keeps
SHA-256 of the whole token, never the token. A slow password hash (bcrypt, Argon2) defends
guessable human passwords; a 256-bit random secret cannot be guessed, so one SHA-256 is as safe
here and keeps checking a token to microseconds on every request.

Tokens carry scopes (``submit``, ``read``, ``officer``, ``auditor``, ``admin``), an optional
expiry, and can be revoked or rotated (a new token with the same agency and scopes; the old one
revoked, at once or after a grace period). Nothing here imports the web framework, so the CLI
uses it too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import queue
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from accord.errors import InputError, NotFoundError
from accord.ledger.db import KeptConnections
from accord.service.projector import stamp

from . import schema

SCOPES = ("submit", "read", "officer", "auditor", "admin")
WRITE_SCOPES = frozenset({"submit", "officer", "admin"})
PREFIX = "acc_"
_MIGRATIONS = Path(__file__).with_name("migrations")


class TokenRejected(Exception):
    """A missing, malformed, unknown, revoked or expired token (the HTTP layer answers 401)."""


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    agency_id: str | None
    scopes: frozenset[str]
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    replaces: str | None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None and self.revoked_at <= stamp(now):
            return "revoked"
        if self.expires_at is not None and self.expires_at <= stamp(now):
            return "expired"
        return "active"

    def to_dict(self, now: datetime) -> dict:
        return {"token_id": self.token_id, "agency_id": self.agency_id, "scopes": sorted(self.scopes),
                "label": self.label, "created_at": self.created_at, "expires_at": self.expires_at,
                "revoked_at": self.revoked_at, "replaces": self.replaces, "state": self.state(now)}


def ensure_tables(engine: Engine) -> None:
    from accord.service.migrate import ensure

    ensure(engine, "api", _MIGRATIONS, schema.HEAD, schema.metadata)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def split(token: str) -> str:
    """The token id of a well-formed token (``TokenRejected`` otherwise).

    >>> split("acc_0123456789ab_" + "x" * 43)
    '0123456789ab'
    """
    if not token.startswith(PREFIX):
        raise TokenRejected("not an Accord API token")
    token_id, sep, secret = token[len(PREFIX):].partition("_")
    if not sep or len(token_id) != 12 or not all(c in "0123456789abcdef" for c in token_id) or len(secret) < 32:
        raise TokenRejected("not an Accord API token")
    return token_id


def _row(r: sa.Row) -> TokenInfo:
    return TokenInfo(r.token_id, r.agency_id, frozenset(r.scopes.split()), r.label, r.created_at, r.expires_at,
                     r.revoked_at, r.replaces)


def check_scopes(agency_id: str | None, scopes: frozenset[str]) -> None:
    """The combinations a token may hold: known scopes; an auditor writes nothing; no agency => auditor or admin."""
    unknown = sorted(scopes - set(SCOPES))
    if unknown or not scopes:
        raise InputError(f"scopes must be some of {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})",
                         field="scopes")
    if "auditor" in scopes and scopes & WRITE_SCOPES:
        raise InputError("an auditor token reads everything and writes nothing: do not combine 'auditor' with "
                         f"{', '.join(sorted(scopes & WRITE_SCOPES))}", field="scopes")
    if agency_id is None and not scopes & {"auditor", "admin"}:
        raise InputError("a token without an agency must be an 'auditor' or 'admin' token", field="agency")


def issue(engine: Engine, agency_id: str | None, scopes: frozenset[str] | set[str], *, now: datetime,
          expires_at: datetime | None = None, label: str = "", replaces: str | None = None) -> tuple[TokenInfo, str]:
    """Make a token; returns its record and the token itself (shown once, never stored)."""
    scopes = frozenset(scopes)
    check_scopes(agency_id, scopes)
    if expires_at is not None and expires_at <= now:
        raise InputError("the expiry is not in the future", field="expires")
    if agency_id is not None:
        _require_agency(engine, agency_id)
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    row = {"token_id": token_id, "secret_hash": digest(token), "agency_id": agency_id, "scopes": " ".join(sorted(scopes)),
           "label": label, "created_at": stamp(now), "expires_at": stamp(expires_at), "revoked_at": None,
           "replaces": replaces}
    with engine.begin() as conn:
        conn.execute(schema.tokens.insert().values(**row))
    return TokenInfo(token_id, agency_id, scopes, label, row["created_at"], row["expires_at"], None, replaces), token


def _require_agency(engine: Engine, agency_id: str) -> None:
    from accord.service import schema as proj

    with engine.connect() as conn:
        found = conn.execute(sa.select(proj.agencies.c.agency_id).where(proj.agencies.c.agency_id == agency_id)).first()
    if found is None:
        raise InputError(f"agency {agency_id} is not registered; add it with `accord agencies add`", field="agency")


def get(engine: Engine, token_id: str) -> TokenInfo:
    with engine.connect() as conn:
        r = conn.execute(sa.select(schema.tokens).where(schema.tokens.c.token_id == token_id)).first()
    if r is None:
        raise NotFoundError(f"no token {token_id}", field="token_id")
    return _row(r)


def list_tokens(engine: Engine, agency_id: str | None = None) -> list[TokenInfo]:
    q = sa.select(schema.tokens).order_by(schema.tokens.c.created_at, schema.tokens.c.token_id)
    if agency_id is not None:
        q = q.where(schema.tokens.c.agency_id == agency_id)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(q)]


def revoke(engine: Engine, token_id: str, *, now: datetime) -> TokenInfo:
    """Revoke a token from ``now`` on (revoking twice keeps the first time)."""
    info = get(engine, token_id)
    if info.revoked_at is None:
        with engine.begin() as conn:
            conn.execute(schema.tokens.update().where(schema.tokens.c.token_id == token_id).values(revoked_at=stamp(now)))
    return get(engine, token_id)


def rotate(engine: Engine, token_id: str, *, now: datetime, grace: timedelta = timedelta(0)) -> tuple[TokenInfo, str]:
    """A new token with the old one's agency, scopes, label and expiry; the old one stops after ``grace``."""
    old = get(engine, token_id)
    if old.state(now) != "active":
        raise InputError(f"token {token_id} is {old.state(now)}: issue a new one instead", field="token_id")
    expires = datetime.fromisoformat(old.expires_at.replace("Z", "+00:00")) if old.expires_at else None
    new, token = issue(engine, old.agency_id, old.scopes, now=now, expires_at=expires, label=old.label,
                       replaces=old.token_id)
    with engine.begin() as conn:
        conn.execute(schema.tokens.update().where(schema.tokens.c.token_id == token_id)
                     .values(revoked_at=stamp(now + grace)))
    return new, token


_BY_ID = sa.select(schema.tokens).where(schema.tokens.c.token_id == sa.bindparam("token_id"))  # built once: every request runs it
_COLUMNS = ("token_id", "secret_hash", "agency_id", "scopes", "label", "created_at", "expires_at", "revoked_at", "replaces")
_BY_ID_SQL = f"SELECT {', '.join(_COLUMNS)} FROM {schema.tokens.name} WHERE token_id = ?"


class Lookup:
    """A token's row, read afresh on every request (so a revocation counts from the next one), cheaply.

    The statement runs on a DBAPI connection the look-up keeps open in autocommit, so it is one
    statement that sees everything committed before it, without a pool check-out: with 16 clients
    the pool's 5 connections were exceeded, and each overflow connection was opened (SQLite's
    PRAGMAs; PostgreSQL's whole handshake) and closed again per request. On a SQLite file each
    thread keeps one (the event loop's thread does the look-ups); on PostgreSQL up to
    :data:`PG_KEPT` are shared by the threads that ask. SQLite in memory and ``keep=False`` use the
    pool. Nothing is cached but connections; the server makes one per store and closes it at shutdown.
    """

    def __init__(self, engine: Engine, *, keep: bool = True) -> None:
        self.engine = engine
        name = engine.dialect.name
        self.local = keep and name == "sqlite" and engine.url.database not in (None, "", ":memory:")
        self.shared = keep and name == "postgresql"
        self._connections = KeptConnections(engine)
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[tuple[int, Any]] = queue.LifoQueue()
        self._made = 0

    def row(self, token_id: str) -> Any:
        if self.local:
            return self._local_row(token_id)
        if self.shared:
            return self._shared_row(token_id)
        with self.engine.connect() as conn:
            return conn.execute(_BY_ID, {"token_id": token_id}).first()

    def _local_row(self, token_id: str) -> Any:
        try:
            cur = self._connections.own().execute(_BY_ID_SQL, (token_id,))
            try:
                got = cur.fetchone()
            finally:
                cur.close()
        except Exception:
            self._connections.drop_own()  # a broken connection is not reused
            raise
        return None if got is None else _Raw(*got)

    def _shared_row(self, token_id: str) -> Any:
        pid = os.getpid()
        try:
            owner, dbapi = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                room = self._made < PG_KEPT
                self._made += room
            if room:
                owner, dbapi = pid, self._connections.open()
                dbapi.autocommit = True  # each look-up its own statement-long transaction (READ COMMITTED)
            else:
                owner, dbapi = self._idle.get()
        if owner != pid:  # inherited through fork: not ours to use, and no longer counted as made here
            with self._lock:
                self._made -= 1
            return self._shared_row(token_id)
        try:
            with dbapi.cursor() as cur:
                cur.execute(_BY_ID_SQL.replace("?", "%s"), (token_id,))
                got = cur.fetchone()
        except Exception:
            with self._lock:
                self._made -= 1  # a broken connection is not reused; the next caller opens another
            self._connections.discard(dbapi)
            raise
        self._idle.put((owner, dbapi))
        return None if got is None else _Raw(*got)

    def close(self) -> None:
        self._connections.close()


#: Connections a PostgreSQL look-up keeps for the server's threads (a look-up holds one for one query).
PG_KEPT = 4


@dataclass(frozen=True)
class _Raw:
    token_id: str
    secret_hash: str
    agency_id: str | None
    scopes: str
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    replaces: str | None


def authenticate(engine: Engine, token: str, now: datetime | None = None, lookup: Lookup | None = None) -> TokenInfo:
    """The active token ``token`` is, or :class:`TokenRejected` (one message for every kind of bad token).

    ``lookup`` (the server's, over ``engine``) reads the row; without it, a pooled connection does.
    """
    token_id = split(token)
    r = (lookup or Lookup(engine, keep=False)).row(token_id)
    if r is None or not hmac.compare_digest(r.secret_hash, digest(token)):
        raise TokenRejected("unknown token")
    info = _row(r)
    state = info.state(now or datetime.now(timezone.utc))
    if state != "active":
        raise TokenRejected(f"token {token_id} is {state}")
    return info
