"""A detainer's life, as states and the steps between them; every step is a ledger event.

::

    received ──decision.made──▶ decided | holding | notify_pending | declined
    holding / notify_pending / decided / declined ──custody.released──▶ released | transferred
    holding ──hold.limit_reached──▶ expired
    any open state ──detainer.lifted──▶ lifted | cancelled

``decided`` means the law could not yet answer an action the form asks for (insufficient facts),
and nothing the form asks for is allowed. ``holding``: the custodian may (or must) keep the person
up to ``hold_until`` past release. ``notify_pending``: it may (or must) tell the issuing agency of
the release. ``declined``: nothing the form asks for is allowed. A transfer (a release to the
immigration agency) is possible only where the decision allows the transfer at release.

The step functions say, for a state and a proposed step, whether it may happen and if not why
(the reason becomes a 409 on the API and a one-line error on the CLI). They are pure: the
application layer calls them before it appends anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from accord.errors import ConflictError


class DetainerState(StrEnum):
    RECEIVED = "received"
    DECIDED = "decided"
    HOLDING = "holding"
    NOTIFY_PENDING = "notify_pending"
    DECLINED = "declined"
    TRANSFERRED = "transferred"
    RELEASED = "released"
    EXPIRED = "expired"
    LIFTED = "lifted"
    CANCELLED = "cancelled"


OPEN = frozenset({DetainerState.RECEIVED, DetainerState.DECIDED, DetainerState.HOLDING,
                  DetainerState.NOTIFY_PENDING, DetainerState.DECLINED})
CLOSED = frozenset(DetainerState) - OPEN

#: Outcomes under which the custodian may carry out an action.
PERMITTED = frozenset({"allow", "require"})

HOLD, NOTIFY, TRANSFER = "hold_past_release", "notify_release", "transfer_at_release"


def after_decision(outcomes: Mapping[str, str]) -> DetainerState:
    """The state a decision leads to, from its outcome per requested action.

    >>> after_decision({"hold_past_release": "allow", "notify_release": "allow"})
    <DetainerState.HOLDING: 'holding'>
    >>> after_decision({"hold_past_release": "deny", "notify_release": "require"})
    <DetainerState.NOTIFY_PENDING: 'notify_pending'>
    >>> after_decision({"notify_release": "insufficient_facts"})
    <DetainerState.DECIDED: 'decided'>
    >>> after_decision({"hold_past_release": "deny", "transfer_at_release": "deny"})
    <DetainerState.DECLINED: 'declined'>
    """
    if outcomes.get(HOLD) in PERMITTED:
        return DetainerState.HOLDING
    if outcomes.get(NOTIFY) in PERMITTED:
        return DetainerState.NOTIFY_PENDING
    if any(o == "insufficient_facts" for o in outcomes.values()):
        return DetainerState.DECIDED
    if outcomes.get(TRANSFER) in PERMITTED:
        return DetainerState.NOTIFY_PENDING  # a transfer at release is still to come
    return DetainerState.DECLINED


def issuer_state(state: DetainerState, outcomes: Mapping[str, str]) -> DetainerState:
    """The state the issuing agency may be shown: its own lift or cancellation, and what the decision
    said; custody status and release (released, transferred, expired) only where the decision lets the
    custodian notify it of the release (e.g. NYC Admin Code §9-131's limit on telling ICE a release date
    or incarceration status: the pack's ``notify_release`` outcome is where each law says so).

    >>> issuer_state(DetainerState.RELEASED, {"notify_release": "deny", "hold_past_release": "deny"})
    <DetainerState.DECLINED: 'declined'>
    >>> issuer_state(DetainerState.RELEASED, {"notify_release": "allow"})
    <DetainerState.RELEASED: 'released'>
    """
    if state in (DetainerState.LIFTED, DetainerState.CANCELLED, DetainerState.RECEIVED) or not outcomes:
        return state
    if outcomes.get(NOTIFY) in PERMITTED:
        return state
    return after_decision(outcomes)


def issuer_may_learn_release(outcomes: Mapping[str, str]) -> bool:
    return outcomes.get(NOTIFY) in PERMITTED


def hidden_from_issuer(actor: Any, custodian: str | None, issuer: str | None, outcomes_json: str | None) -> bool:
    """Is ``actor`` (an ``Actor``) only the issuing agency of a detainer whose decision does not let it
    learn the release? Then its hold, clock and the notices about it are not shown to that agency: a
    running hold, a due date or a notice to the person tell that the person is in custody and when they
    leave it (NYC Admin Code §9-131)."""
    if actor.sees_all or actor.agency_id is None or actor.agency_id == custodian or actor.agency_id != issuer:
        return False
    return not issuer_may_learn_release(json.loads(outcomes_json or "{}"))


def after_release(state: DetainerState, outcomes: Mapping[str, str], to_immigration: bool) -> DetainerState:
    """The state a release of the person leads to; a release *to* immigration is a transfer.

    >>> after_release(DetainerState.HOLDING, {"transfer_at_release": "allow"}, True)
    <DetainerState.TRANSFERRED: 'transferred'>
    >>> after_release(DetainerState.DECLINED, {"transfer_at_release": "deny"}, False)
    <DetainerState.RELEASED: 'released'>
    """
    if state in CLOSED:
        return state
    return DetainerState.TRANSFERRED if to_immigration else DetainerState.RELEASED


def check_release(request_id: str, state: DetainerState, outcomes: Mapping[str, str], to_immigration: bool,
                  citation: str | None = None) -> None:
    """Refuse a transfer the decision does not allow (the law, not the form, says what may be done)."""
    if not to_immigration or state in CLOSED:
        return
    outcome = outcomes.get(TRANSFER)
    if outcome not in PERMITTED:
        why = {None: "the detainer does not request a transfer",
               "deny": "the law does not allow a transfer at release",
               "insufficient_facts": "the law cannot yet say whether a transfer is allowed (facts are missing)"}
        cite = f" ({citation})" if citation and outcome == "deny" else ""
        raise ConflictError(f"detainer {request_id} is {state.value}: {why.get(outcome, 'transfer not allowed')}{cite}; "
                            "record the release with another reason", field="reason")


def check_open(request_id: str, state: DetainerState, step: str) -> None:
    """Refuse a step on a detainer that is already closed (released, transferred, lifted, ...)."""
    if state in CLOSED:
        raise ConflictError(f"detainer {request_id} is already {state.value}: it cannot be {step}", field="request_id")


def check_hold_ends(request_id: str, state: DetainerState) -> None:
    """Only a detainer in a hold can reach its hold limit."""
    if state is not DetainerState.HOLDING:
        raise ConflictError(f"detainer {request_id} is {state.value}, not holding: no hold to end", field="request_id")
