"""``decide``: apply a pack to one case on one date and say why, per action.

Each action has a tree of rules: an unconditional default and labelled exceptions to
it (and to them). Evaluation, shared exactly with ``decide_batch``:

* a rule's exceptions are looked at first, in order; the first that applies decides;
* if none applies the rule itself decides when its condition is true;
* a condition that is unknown (a fact it needs is null) makes both "applies" and
  "does not apply" possible; the action is ``insufficient_facts`` exactly when more
  than one outcome remains possible, and the unknown facts on which the outcome
  actually depends are named (:mod:`accord.law.relevance`, shared with ``decide_batch``).

Exceptions are independent of their parent's condition, as in Catala: an exception
says "in this situation, not that".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from accord.domain import Notice
from accord.domain.enums import Action, Outcome

from .case import DetainerCase
from .clock import clock_until
from .expr import DATE_MAX, DATE_MIN, LAW_DATE, Context, PyFn, compile_py, inline
from .facts import facts_from_case
from .pack import Pack, Rule
from .relevance import ActionAtoms, action_atoms, state_key

#: The actions a detainer form may or may not request; the other three are decided for every detainer.
REQUESTED_BY_FORM = {
    Action.HOLD_PAST_RELEASE: "requests_hold",
    Action.NOTIFY_RELEASE: "requests_notify",
    Action.TRANSFER_AT_RELEASE: "requests_transfer",
}


@dataclass(slots=True)
class ActionDecision:
    action: Action
    outcome: Outcome
    rule_id: str | None  # the rule that decided; None when insufficient_facts
    citation: str | None
    fired: tuple[str, ...]  # every rule of this action whose condition held
    missing: tuple[str, ...] = ()  # facts that were unknown and could change the outcome

    def to_payload(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "outcome": self.outcome.value,
            "rule_id": self.rule_id,
            "citation": self.citation,
            "fired": list(self.fired),
            "missing": list(self.missing),
        }


@dataclass(slots=True)
class CaseDecision:
    """What the law says about one detainer on one date, with everything needed to explain it."""

    pack_id: str
    pack_version: str
    law_date: date
    request_id: str | None
    decisions: dict[Action, ActionDecision]
    facts: dict[str, Any]  # the facts the rules read, with their values
    citations: tuple[str, ...]
    notices: tuple[Notice, ...] = ()
    hold_until: datetime | None = None
    rule_summaries: dict[str, str] = field(default_factory=dict)

    def outcome(self, action: Action | str) -> Outcome | None:
        d = self.decisions.get(Action(action))
        return d.outcome if d else None

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready payload of the ``decision.made`` event."""
        return {
            "pack_id": self.pack_id,
            "pack_version": self.pack_version,
            "law_date": self.law_date.isoformat(),
            "request_id": self.request_id,
            "decisions": [d.to_payload() for d in self.decisions.values()],
            "facts": {k: _json(v) for k, v in sorted(self.facts.items())},
            "citations": list(self.citations),
            "rule_summaries": dict(self.rule_summaries),
            "notices": [n.model_dump(mode="json") for n in self.notices],
            "hold_until": self.hold_until.isoformat() if self.hold_until else None,
        }


def _json(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (date, datetime)) else v


# --- compiled plans -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Node:
    rule: Rule
    cond: PyFn
    facts: frozenset[str]
    kids: tuple[_Node, ...]
    inlined: Any = None  # the condition with predicates and parameters inlined (for relevance)


@dataclass(frozen=True)
class Plan:
    """A pack's rules in force over one period of constant law, compiled for one case at a time."""

    roots: dict[Action, _Node]
    facts: dict[Action, frozenset[str]]
    params: dict[str, Any]
    notices: tuple[Any, ...]
    notice_conds: tuple[PyFn | None, ...]
    summaries: dict[str, str]
    atoms: dict[Action, ActionAtoms] = field(default_factory=dict)
    atom_fns: dict[Action, tuple[PyFn, ...]] = field(default_factory=dict)


def context(pack: Pack, on: date) -> Context:
    return Context(params=pack.params_at(on), predicates=pack.predicates, tz=pack.tz)


def plan_for(pack: Pack, on: date) -> Plan:
    """The compiled plan in force on ``on`` (cached per period of constant law)."""
    k = pack.epoch(on)
    cached = pack._plans.get(k)
    if cached is None:
        cached = pack._plans[k] = _compile(pack, pack.boundaries[k])
    return cached


def _compile(pack: Pack, on: date) -> Plan:
    ctx = context(pack, on)
    rules = pack.rules_at(on)
    kids: dict[str | None, list[Rule]] = {}
    for r in rules:
        kids.setdefault(r.exception_to, []).append(r)

    def node(r: Rule) -> _Node:
        inl = inline(r.condition, ctx)
        return _Node(r, compile_py(r.condition, ctx), frozenset(inl.facts()), tuple(node(k) for k in kids.get(r.id, ())), inl)

    roots = {r.action: node(r) for r in kids.get(None, ())}
    facts = {a: frozenset().union(*(n.facts for n in _walk(root))) for a, root in roots.items()}
    notices = tuple(n for n in pack.notices if n.in_force(on))
    conds = tuple(compile_py(n.condition, ctx) if n.condition is not None else None for n in notices)
    atoms = {a: plan_atoms(root) for a, root in roots.items()}
    fns = {a: tuple(compile_py(x, ctx) for x in at.atoms) for a, at in atoms.items()}
    return Plan(roots, facts, ctx.params, notices, conds, {r.id: r.summary for r in rules}, atoms, fns)


def plan_atoms(root: _Node) -> ActionAtoms:
    """The atoms of an action's compiled tree (see :mod:`accord.law.relevance`)."""
    return action_atoms(root, lambda n: n.inlined, lambda n: n.kids, lambda n: n.rule.outcome)


def _walk(n: _Node):
    yield n
    for k in n.kids:
        yield from _walk(k)


NA, BIT = 1, {Outcome.REQUIRE: 2, Outcome.ALLOW: 4, Outcome.DENY: 8}
BIT_OUTCOME = {v: k for k, v in BIT.items()}


def _eval(n: _Node, f: Mapping[str, Any], fired: list[str], unknown: list[_Node]) -> tuple[int, _Node | None]:
    """(possible results as a bit set, the rule sure to decide if any) for the subtree at ``n``.

    Bits: NA (does not apply) and one per outcome. The first exception that applies wins,
    so an exception that may or may not apply adds its outcome to the possibilities and
    lets the later ones through; the subtree is decided when one outcome is possible.
    """
    possible, through, decider = 0, True, None
    for k in n.kids:
        p, r = _eval(k, f, fired, unknown)
        if through:
            possible |= p & ~NA
            through = bool(p & NA)
        if decider is None and not p & NA:
            decider = r
    c = n.cond(f)
    if c is True:
        fired.append(n.rule.id)
        own = BIT[n.rule.outcome]
        if decider is None:
            decider = n
    elif c is None:
        unknown.append(n)
        own = BIT[n.rule.outcome] | NA
    else:
        own = NA
    if through:
        possible |= own
    return possible, decider


# --- decide ----------------------------------------------------------------------------------------


def law_date_of(facts: Mapping[str, Any], pack: Pack, as_of: date | None) -> date | None:
    """``as_of`` if given, else the local date (pack zone) the detainer was received."""
    if as_of is not None:
        return as_of
    received = facts.get("received_at")
    if received is None:
        return None
    day = received.astimezone(pack.tz).date()
    return day if DATE_MIN <= day <= DATE_MAX else None


def decide(case: DetainerCase | Mapping[str, Any], pack: Pack, as_of: date | None = None) -> CaseDecision:
    """Decide every action a detainer raises under ``pack`` as in force on ``as_of``.

    ``case`` is a :class:`DetainerCase` or a FACTS mapping. ``as_of=None`` applies the law
    in force on the day the detainer was received (in the pack's zone). A date before the
    pack's first effective date raises :class:`~accord.law.pack.LawDateError`.
    """
    if isinstance(case, DetainerCase):
        on = as_of or case.detainer.received_at.astimezone(pack.tz).date()
        facts: Mapping[str, Any] = facts_from_case(case, on)
        request_id: str | None = case.detainer.request_id
        person_id: str | None = case.person.person_id
    else:
        facts, request_id, person_id = case, case.get("detainer_id"), case.get("person_id")
        on = law_date_of(facts, pack, as_of)
    if on is None:
        return _all_unknown(pack, facts, request_id)
    plan = plan_for(pack, on)
    f = facts if isinstance(case, DetainerCase) else dict(facts)  # facts_from_case made a fresh dict
    f[LAW_DATE] = on  # type: ignore[index]
    decisions: dict[Action, ActionDecision] = {}
    read: set[str] = set()
    for action, root in plan.roots.items():
        req = REQUESTED_BY_FORM.get(action)
        if req is not None:
            read.add(req)
            wanted = f.get(req)
            if wanted is False:
                continue
            if wanted is None:
                decisions[action] = ActionDecision(action, Outcome.INSUFFICIENT_FACTS, None, None, (), (req,))
                continue
        read |= plan.facts[action]
        fired: list[str] = []
        unknown: list[_Node] = []
        possible, r = _eval(root, f, fired, unknown)
        if possible in BIT_OUTCOME and r is not None:
            decisions[action] = ActionDecision(action, r.rule.outcome, r.rule.id, r.rule.citation, tuple(fired))
        else:
            missing = plan.atoms[action].missing(state_key(fn(f) for fn in plan.atom_fns[action]), lambda x: f.get(x) is None)
            decisions[action] = ActionDecision(action, Outcome.INSUFFICIENT_FACTS, None, None, tuple(fired), tuple(missing))
    citations = tuple(dict.fromkeys(d.citation for d in decisions.values() if d.citation))
    summaries = {d.rule_id: plan.summaries[d.rule_id] for d in decisions.values() if d.rule_id}
    until = None
    hold = decisions.get(Action.HOLD_PAST_RELEASE)
    if hold is not None and hold.outcome in (Outcome.ALLOW, Outcome.REQUIRE) and f.get("release_eligible_at") is not None:
        until = clock_until(f["release_eligible_at"], plan.params, pack.tz)
    if as_of is None:
        read.add("received_at")  # it chose the law version
    if until is not None:
        read.add("release_eligible_at")  # the hold clock starts there
    if "form_in_use_on_issue" in read:
        read |= {"form", "issued_on"}  # what the form's validity was judged from (accord.domain.forms)
    notices = _notices(plan, f, decisions, request_id, person_id, until)
    return CaseDecision(
        pack_id=pack.id,
        pack_version=pack.version,
        law_date=on,
        request_id=request_id,
        decisions=decisions,
        facts={k: f.get(k) for k in sorted(read)},
        citations=citations + tuple(n.citation for n in notices if n.citation not in citations),
        notices=notices,
        hold_until=until,
        rule_summaries=summaries,
    )


def _all_unknown(pack: Pack, facts: Mapping[str, Any], request_id: str | None) -> CaseDecision:
    """No received_at and no as_of: which law applies is itself unknown."""
    ds = {}
    for a in Action:
        req = REQUESTED_BY_FORM.get(a)
        wanted = True if req is None else facts.get(req)
        if wanted is not False:
            ds[a] = ActionDecision(a, Outcome.INSUFFICIENT_FACTS, None, None, (), (req,) if wanted is None else ("received_at",))
    return CaseDecision(pack.id, pack.version, date.min, request_id, ds, {"received_at": None}, ())


def _notices(plan: Plan, f: Mapping[str, Any], decisions: dict[Action, ActionDecision], request_id: str | None,
             person_id: str | None, until: datetime | None) -> tuple[Notice, ...]:
    out = []
    about = request_id or "unidentified"
    for spec, cond in zip(plan.notices, plan.notice_conds):
        if any((d := decisions.get(a)) is None or d.outcome not in outs for a, outs in spec.when_outcome.items()):
            continue
        if cond is not None and cond(f) is not True:
            continue
        base = until if spec.due_from == "hold_until" else f.get(spec.due_from)
        if base is None:
            base = f.get("received_at")
        if base is None:
            continue
        hours = spec.due_hours
        if isinstance(hours, str):
            hours = plan.params[hours.removeprefix("param.")]
        out.append(
            Notice(
                notice_id=f"{about}.{spec.id}",
                kind=spec.kind,
                recipient=spec.recipient,
                person_id=person_id,
                about_request_id=about,
                due_by=base + timedelta(hours=float(hours)),
                citation=spec.citation,
                business_days=spec.business_days,
            )
        )
    return tuple(out)
