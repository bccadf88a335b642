"""Console users: added at the command line, signed in with a password, kept in sessions.

Nothing here imports the web framework (``accord users add|list`` uses it too). Passwords are
hashed with Argon2id (``argon2-cffi``'s defaults, RFC 9106's second recommended profile); a
wrong password and an unknown user are one answer (the message does not say which a stranger
guessed), and both take an Argon2 verification, so timing does not tell them apart either.

Lock-out: after ``console_lockout_failures`` wrong passwords in a row (default 5) an account
refuses sign-in for ``console_lockout_seconds`` (default 15 minutes), even with the right
password; a success resets the count.

Roles: an *officer* acts for one custodian agency and sees only its detainers; an *auditor*
sees every agency's and changes nothing (the application layer's ``Actor`` says so: its
``auditor`` scope reads and never writes).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from accord.errors import ConflictError, InputError
from accord.service.actors import Actor
from accord.service.projector import stamp

from . import schema

ROLES = ("officer", "auditor")
_MIGRATIONS = Path(__file__).with_name("migrations")
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MIN_PASSWORD = 12


class SignInRefused(Exception):
    """Wrong user or password, or a locked account (the message is what the person is shown)."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    agency_id: str | None
    created_at: str
    locked_until: str | None
    last_sign_in_at: str | None

    @property
    def actor(self) -> Actor:
        """The application layer's actor: an officer writes for its agency, an auditor reads all."""
        if self.role == "auditor":
            return Actor(f"user:{self.username}", None, frozenset({"auditor"}))
        return Actor(f"user:{self.username}", self.agency_id, frozenset({"officer", "read"}))

    def to_dict(self) -> dict:
        return {"username": self.username, "role": self.role, "agency_id": self.agency_id,
                "created_at": self.created_at, "locked_until": self.locked_until,
                "last_sign_in_at": self.last_sign_in_at}


def ensure_tables(engine: Engine) -> None:
    from accord.service.migrate import ensure

    ensure(engine, "console", _MIGRATIONS, schema.HEAD, schema.metadata)


def _hasher():  # -> argon2.PasswordHasher
    from argon2 import PasswordHasher

    return PasswordHasher()


def _user(row: sa.Row) -> User:
    return User(row.username, row.role, row.agency_id, row.created_at, row.locked_until, row.last_sign_in_at)


def add_user(engine: Engine, username: str, password: str, role: str, agency_id: str | None, now: datetime,
             known_agency: bool = True) -> User:
    """A new user; an officer needs the custodian agency it acts for, an auditor has none."""
    if not _NAME.match(username or ""):
        raise InputError("username must be 1-64 of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
                         field="username")
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="role")
    if role == "officer" and not agency_id:
        raise InputError("an officer acts for one custodian agency: give --agency", field="agency")
    if role == "auditor" and agency_id:
        raise InputError("an auditor sees every agency: give no --agency", field="agency")
    if not known_agency:
        raise InputError(f"agency {agency_id} is not registered; register it with `accord agencies add`", field="agency")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"password must be at least {MIN_PASSWORD} characters", field="password")
    ensure_tables(engine)
    with engine.begin() as conn:
        if conn.execute(sa.select(schema.users.c.username).where(schema.users.c.username == username)).first():
            raise ConflictError(f"user {username} already exists", field="username")
        conn.execute(schema.users.insert().values(username=username, password_hash=_hasher().hash(password), role=role,
                                                  agency_id=agency_id, created_at=stamp(now), failed_count=0))
    return User(username, role, agency_id, stamp(now), None, None)


def list_users(engine: Engine) -> list[User]:
    ensure_tables(engine)
    with engine.connect() as conn:
        return [_user(r) for r in conn.execute(sa.select(schema.users).order_by(schema.users.c.username))]


def get_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(sa.select(schema.users).where(schema.users.c.username == username)).first()
    return _user(row) if row else None


#: Verified against when the name is unknown, so an unknown name costs what a wrong password does.
_DUMMY: list[str] = []


def check_password(engine: Engine, username: str, password: str, now: datetime, *, max_failures: int,
                   lockout: timedelta) -> User:
    """The user, if ``password`` is theirs and the account is not locked; else ``SignInRefused``."""
    from argon2.exceptions import InvalidHashError, VerificationError

    t = schema.users
    hasher = _hasher()
    locked_msg = "this account is locked after repeated failed sign-ins; try again later or ask the operator"
    refusal = None
    with engine.begin() as conn:  # the count is committed before the refusal is raised
        row = conn.execute(sa.select(t).where(t.c.username == username)).first()
        if row is None:
            if not _DUMMY:
                _DUMMY.append(hasher.hash(secrets.token_hex(16)))
            try:
                hasher.verify(_DUMMY[0], password)
            except VerificationError:
                pass
            refusal = "wrong user name or password"
        elif row.locked_until is not None and row.locked_until > stamp(now):
            refusal = locked_msg
        else:
            try:
                hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                failures = (row.failed_count or 0) + 1
                locked = stamp(now + lockout) if failures >= max_failures else None
                conn.execute(t.update().where(t.c.username == username).values(
                    failed_count=0 if locked else failures, locked_until=locked))
                refusal = locked_msg if locked else "wrong user name or password"
            else:
                conn.execute(t.update().where(t.c.username == username).values(
                    failed_count=0, locked_until=None, last_sign_in_at=stamp(now)))
    if refusal is not None:
        raise SignInRefused(refusal)
    return _user(row)


# -- sessions --------------------------------------------------------------------------------

def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def open_session(engine: Engine, username: str, now: datetime, length: timedelta) -> tuple[str, str]:
    """A new session for ``username``: (cookie value, CSRF token). Always new: no id survives a sign-in."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(schema.sessions.delete().where(schema.sessions.c.expires_at <= stamp(now)))
        conn.execute(schema.sessions.insert().values(session_hash=_digest(cookie), username=username, csrf=csrf,
                                                     created_at=stamp(now), expires_at=stamp(now + length)))
    return cookie, csrf


def session_user(engine: Engine, cookie: str | None, now: datetime) -> tuple[User, str] | None:
    """The signed-in user and the session's CSRF token, or None (no, unknown or expired session)."""
    if not cookie or len(cookie) > 100:
        return None
    s, u = schema.sessions, schema.users
    with engine.connect() as conn:
        row = conn.execute(sa.select(u, s.c.csrf).join(s, s.c.username == u.c.username)
                           .where(s.c.session_hash == _digest(cookie), s.c.expires_at > stamp(now))).first()
    return (_user(row), row.csrf) if row else None


def close_session(engine: Engine, cookie: str | None) -> None:
    if cookie:
        with engine.begin() as conn:
            conn.execute(schema.sessions.delete().where(schema.sessions.c.session_hash == _digest(cookie)))
