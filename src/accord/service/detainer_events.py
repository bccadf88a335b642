"""Decisions as ledger events: ``decision.made`` caused by the ``detainer.received`` it answers.

The detainer (when new), the decision and the notices it says the law requires are
appended in one transaction, decision and notices pointing at the detainer event, so a reader of the ledger can walk
from any notice or decision back to the request (``accord explain``).
"""

from __future__ import annotations

from typing import Any

from accord.domain import DetainerRequest
from accord.domain.events import EventKind
from accord.errors import InputError, NotFoundError
from accord.law.case import DetainerCase
from accord.law.engine import CaseDecision
from accord.ledger import BatchRef, Ledger, NewEvent, StoredEvent

from .store import Store, UnitOfWork


def detainer_stream(request_id: str) -> str:
    return f"detainer/{request_id}"


def find_detainer_event(reader: Any, request_id: str) -> StoredEvent | None:
    """The first ``detainer.received`` event recorded for ``request_id`` (``reader``: a Ledger or a LedgerTx)."""
    for ev in reader.events(kind=EventKind.DETAINER_RECEIVED.value, stream=detainer_stream(request_id), limit=1):
        return ev
    return None


def decision_batch(case: DetainerCase, decision: CaseDecision, received: StoredEvent | None) -> list[NewEvent]:
    """The events that record ``decision`` (and the detainer, unless ``received`` is its stored event)."""
    req = case.detainer.request_id
    stream = detainer_stream(req)
    batch: list[NewEvent] = []
    if received is None:
        batch.append(NewEvent(EventKind.DETAINER_RECEIVED.value, case.detainer, stream, None))
        cause: Any = BatchRef(0)
    elif _recorded_detainer(received) != case.detainer:
        raise InputError(
            f"detainer {req} is already recorded (seq {received.seq}) with different contents; record a correction instead",
            field="detainer",
        )
    else:
        cause = received.seq
    batch.append(NewEvent(EventKind.DECISION_MADE.value, decision.to_payload(), stream, cause))
    batch += [NewEvent(EventKind.NOTICE_DUE.value, n, None, cause) for n in decision.notices]
    return batch


def record_decision_in(uow: UnitOfWork, case: DetainerCase, decision: CaseDecision) -> tuple[StoredEvent, StoredEvent, list[StoredEvent]]:
    """Inside ``uow``: append (if new) the detainer, then the decision and its notices."""
    received = find_detainer_event(uow.tx, case.detainer.request_id)
    written = uow.append(decision_batch(case, decision, received))
    if received is None:
        received, written = written[0], written[1:]
    return received, written[0], written[1:]


def record_decision(store: Store | Ledger, case: DetainerCase, decision: CaseDecision) -> tuple[StoredEvent, StoredEvent, list[StoredEvent]]:
    """Append (if new) the detainer, the decision and its notices in ONE transaction.

    Returns (detainer, decision, notices) events. A crash leaves either all of them or,
    for a detainer not yet recorded, none: never a detainer without its decision.
    """
    with Store.of(store).transaction() as uow:
        return record_decision_in(uow, case, decision)


def _recorded_detainer(ev: StoredEvent) -> DetainerRequest:
    """The recorded payload as a model, so spelling differences (Z vs +00:00) do not count."""
    return DetainerRequest.model_validate_json(ev.payload_json)


def decision_events_for(ledger: Any, seq: int) -> tuple[StoredEvent, list[StoredEvent]]:
    """Given any event seq: (the detainer.received event, its decision.made events).

    A ``decision.made`` or ``notice.due`` event leads to its detainer via ``caused_by``.
    """
    ev = ledger.get(seq)
    if ev.kind in (EventKind.DECISION_MADE.value, EventKind.NOTICE_DUE.value) and ev.caused_by:
        ev = ledger.get(ev.caused_by)
    if ev.kind != EventKind.DETAINER_RECEIVED.value:
        raise NotFoundError(f"event {seq} is a {ev.kind}, not a detainer or a decision; nothing to explain")
    decisions = [d for d in ledger.events(kind=EventKind.DECISION_MADE.value, stream=ev.stream) if d.caused_by == ev.seq]
    if ledger.get(seq).kind == EventKind.DECISION_MADE.value:
        decisions = [d for d in decisions if d.seq == seq]
    return ev, decisions
