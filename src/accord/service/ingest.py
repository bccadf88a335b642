"""``accord ingest`` as a use case: a file of records lands whole, once, and only with steps that can happen.

The ledger's parser (``accord.ledger.ingest.rows``) checks each row's shape; this layer checks each
row against what is already recorded and what the file recorded before it, as the service's
lifecycle would: a booking or detainer id already in the ledger, a release of a person never booked
(or already released), a lift of a detainer never received (or already closed), a notice sent that
was never owed or is owed no more (a release or lift discharged it, as ``mark_sent`` refuses it) —
each refused by line. The file's SHA-256 is recorded with it (table
``svc_ingested_files``, in the same transaction; the ledger holds exactly the file's records), so
ingesting the same file again is a no-op that says so.
Everything happens in one unit of work: on any refused row nothing of the file is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from accord.domain.enums import NoticeKind
from accord.errors import InputError
from accord.ledger import NewEvent
from accord.ledger.ingest import MAX_REPORTED_ERRORS, IngestErrors, rows
from accord.ledger.writer import gc_paused

from . import schema
from .lifecycle import OPEN, DetainerState
from .projector import DISCHARGED, stamp
from .store import Store, UnitOfWork

CHUNK = 5000


@dataclass(frozen=True)
class IngestResult:
    count: int
    first_seq: int
    last_seq: int
    sha256: str
    already_ingested: bool = False


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    return h.hexdigest()


class _FileState:
    """What the rows of this file recorded so far (before they reach the read model)."""

    def __init__(self) -> None:
        self.bookings: dict[str, dict[str, Any]] = {}
        self.detainers: dict[str, str] = {}  # request id -> state
        self.notices: dict[str, str] = {}  # notice id -> owed | sent
        self.hold_notices: set[str] = set()  # hold-expiry notices this file made owed (a closing discharges them)
        self.once: set[str] = set()  # streams opened by one-shot kinds
        #: a release or lift is in the batch not yet appended: the projector may discharge notices it owes
        self.closing = False

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]


#: Kinds that record a thing once: a second row with the same id is a duplicate, not an update.
_ONCE = {"custody.booked": ("booking", "booking_id"), "detainer.received": ("detainer", "request_id"),
         "record.requested": ("record", "request_id"), "notice.due": ("notice", "notice_id"),
         "encounter.post_release": ("encounter", "encounter_id")}


def _check(uow: UnitOfWork, ev: NewEvent, st: _FileState) -> tuple[str, str] | None:
    """Why ``ev`` cannot happen now, as (field, problem), or None."""
    kind, p = str(ev.kind), ev.payload
    if kind in _ONCE:
        prefix, key = _ONCE[kind]
        ident = getattr(p, key)
        stream = f"{prefix}/{ident}"
        if stream in st.once:
            return f"payload.{key}", f"{ident} was already given earlier in this file"
        for old in uow.tx.events(stream=stream, limit=1):
            return f"payload.{key}", f"{ident} is already in the ledger (event {old.seq}); record a correction instead"
        st.once.add(stream)
    if kind == "custody.booked":
        st.bookings[p.booking_id] = {"state": "in_custody", "person_id": p.person_id, "booked_at": stamp(p.booked_at)}
    elif kind == "custody.released":
        b = st.bookings.get(p.booking_id) or uow.row(schema.bookings, p.booking_id)
        if b is None:
            return "payload.booking_id", f"no booking {p.booking_id} is recorded: a release needs its booking first"
        if b["state"] != "in_custody":
            return "payload.booking_id", f"booking {p.booking_id} is already released"
        if b["person_id"] != p.person_id:
            return "payload.person_id", f"booking {p.booking_id} holds another person"
        if stamp(p.released_at) < b["booked_at"]:
            return "payload.released_at", "is before the booking"
        st.bookings[p.booking_id] = {**b, "state": "released"}
        st.closing = True
    elif kind == "detainer.received":
        st.detainers[p.request_id] = DetainerState.RECEIVED.value
    elif kind == "detainer.lifted":
        state = st.detainers.get(p.request_id)
        if state is None:
            row = uow.row(schema.detainers, p.request_id)
            state = None if row is None else row["state"]
        if state is None:
            return "payload.request_id", f"no detainer {p.request_id} is recorded: nothing to lift"
        if DetainerState(state) not in OPEN:
            return "payload.request_id", f"detainer {p.request_id} is already {state}"
        st.detainers[p.request_id] = DetainerState.CANCELLED.value if p.cancelled else DetainerState.LIFTED.value
        st.closing = True
    elif kind == "notice.due":
        st.notices[p.notice_id] = "owed"
        if p.kind == NoticeKind.HOLD_EXPIRY:
            st.hold_notices.add(p.notice_id)
    elif kind == "notice.sent":
        state = st.notices.get(p.notice_id)
        if state is None:
            row = uow.row(schema.notices, p.notice_id)
            state = None if row is None else row["state"]
        if state is None:
            return "payload.notice_id", f"no notice {p.notice_id} is owed: it cannot have been sent"
        if state == "sent":
            return "payload.notice_id", f"notice {p.notice_id} is already recorded as sent"
        if state == DISCHARGED:  # as ``mark_sent`` refuses it
            return "payload.notice_id", (f"notice {p.notice_id} is no longer owed: the detainer it is about "
                                         "closed before this row")
        st.notices[p.notice_id] = "sent"
    return None


def _dischargeable(uow: UnitOfWork, ev: NewEvent, st: _FileState) -> bool:
    """Whether the notice this ``notice.sent`` row names is one a closing may have discharged (an owed
    hold-expiry notice, the only kind the projector discharges), so the rows before it must be projected
    first; other notices are judged without that (a file of many releases and sendings stays one batch)."""
    notice_id = ev.payload.notice_id
    if notice_id in st.hold_notices:
        return True
    row = uow.row(schema.notices, notice_id)
    return row is not None and row["kind"] == NoticeKind.HOLD_EXPIRY and row["state"] == "owed"


def ingest_file(store: Store, path: Path, fmt: str | None = None, kind: str | None = None, *,
                on_row: Callable[[int], None] | None = None, chunk: int = CHUNK) -> IngestResult:
    """Check every row (shape and lifecycle), then commit the file in one transaction, or nothing."""
    sha = file_sha256(path)
    log = schema.ingested_files
    with store.transaction() as uow:
        before = uow.connection.execute(sa.select(log).where(log.c.sha256 == sha)).first()
        if before is not None:
            return IngestResult(0, before.first_seq, before.last_seq, sha, already_ingested=True)
        errors: list[InputError] = []
        bad = count = 0
        first = last = 0
        st = _FileState()
        batch: list[NewEvent] = []

        def commit(events: list[NewEvent]) -> None:
            nonlocal first, last
            if events:
                stored = uow.append(events)
                first = first or stored[0].seq
                last = stored[-1].seq
                uow.proj.flush()
                uow.proj.forget()
                st.clear()  # the ledger and the read model (this transaction's) hold them now

        with gc_paused():
            for line, item in rows(path, fmt, kind):
                count += 1
                if not isinstance(item, InputError):
                    if st.closing and batch and str(item.kind) == "notice.sent" and _dischargeable(uow, item, st):
                        # the read model, not this file's notes, knows which notices a release or lift
                        # discharged: project the rows so far before judging the notice
                        commit(batch)
                        batch = []
                    why = _check(uow, item, st)
                    if why is None:
                        batch.append(item)
                    else:
                        item = InputError(why[1], source=path.name, line=line, field=why[0])
                if isinstance(item, InputError):
                    bad += 1
                    if len(errors) < MAX_REPORTED_ERRORS:
                        errors.append(item)
                if len(batch) >= chunk:
                    commit(batch)
                    batch = []
                if on_row is not None:
                    on_row(count)
            if bad:
                raise IngestErrors(path.name, errors, bad)  # the unit of work rolls everything back
            commit(batch)
        if not count:
            return IngestResult(0, 0, 0, sha)
        uow.connection.execute(log.insert().values(sha256=sha, file=path.name[:255], rows=count, first_seq=first,
                                                   last_seq=last, ingested_at=stamp(uow.now)))
        return IngestResult(count, first, last, sha)

