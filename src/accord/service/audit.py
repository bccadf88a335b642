"""Use cases of the audit log: the latest signed checkpoint, and proofs that an event is in the ledger.

An agency may prove only events about its own requests (a detainer it issued or holds, a booking
it keeps or has a detainer on, a record request it made or was asked, a notice owed to it or by
it, its own registration); another's event is "not found", as elsewhere. Auditors prove any.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from accord.errors import ConflictError, NotFoundError
from accord.ledger import StoredEvent

from . import schema
from .actors import Actor
from .views import CheckpointView, InclusionProofView

READ_SCOPES = ("read", "submit", "officer", "auditor")


def _checkpoint_view(cp: Any) -> CheckpointView:
    from accord.ledger.witness import to_signed_note

    return CheckpointView(**cp.to_dict(), signed_note=to_signed_note(cp))


def latest_checkpoint(reader: Any, actor: Actor) -> CheckpointView:
    """The newest checkpoint signed so far (the operator signs them: ``accord audit checkpoint``)."""
    actor.require(*READ_SCOPES)
    kept = reader.store.ledger.checkpoints()
    if not kept:
        raise NotFoundError("no checkpoint has been signed yet; the operator signs one with `accord audit checkpoint`")
    return _checkpoint_view(kept[-1])


def _owns(reader: Any, actor: Actor, ev: StoredEvent) -> bool:
    if actor.sees_all:
        return True
    kind, _, key = ev.stream.partition("/")
    me = actor.agency_id
    if kind == "detainer":
        d = reader.row(schema.detainers, key)
        return d is not None and me in (d["custodian_agency_id"], d["issuing_agency_id"])
    if kind == "booking":
        b = reader.row(schema.bookings, key)
        if b is not None and b["custodian_agency_id"] == me:
            return True
        return any(d["issuing_agency_id"] == me for d in reader.proj.detainers_of_booking(key))
    if kind == "record":
        r = reader.row(schema.record_requests, key)
        return r is not None and me in (r["requester_agency_id"], r["custodian_agency_id"])
    if kind == "notice":
        n = reader.row(schema.notices, key)
        return n is not None and me in (n["owed_by_agency_id"], n["requester_agency_id"])
    if kind == "agency":
        return key == me
    if kind == "person":
        t = schema.bookings
        q = sa.select(t.c.booking_id).where(t.c.person_id == key, t.c.custodian_agency_id == me).limit(1)
        return reader.connection.execute(q).first() is not None
    return False


def prove(reader: Any, actor: Actor, seq: int, size: int | None = None) -> InclusionProofView:
    """Inclusion proof of event ``seq``: by default in the latest signed checkpoint (409 if it is newer)."""
    actor.require(*READ_SCOPES)
    ev = reader.event(seq) if seq >= 1 else None
    if ev is None or not _owns(reader, actor, ev):
        raise NotFoundError(f"no event {seq}", field="seq")
    ledger = reader.store.ledger
    kept = ledger.checkpoints()
    checkpoint = None
    if size is None:
        if not kept or kept[-1].size < seq:
            covered = kept[-1].size if kept else 0
            raise ConflictError(f"event {seq} is not yet in a signed checkpoint (the latest covers {covered} events); "
                                "ask again after the next checkpoint, or name a tree size with ?size=", field="seq")
        checkpoint, size = kept[-1], kept[-1].size
    else:
        checkpoint = next((cp for cp in reversed(kept) if cp.size == size), None)
    if size < seq:
        raise ConflictError(f"event {seq} is not in a tree of {size} events", field="size")
    proof = ledger.prove_inclusion(seq, size)
    return InclusionProofView(**proof.to_dict(), checkpoint=_checkpoint_view(checkpoint) if checkpoint else None)
