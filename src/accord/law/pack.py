"""A jurisdiction's law as data: dated parameters with references, cited rules, labelled exceptions.

A pack is a YAML file under ``packs/``. Parameters are dated values each with the
legal reference it comes from (OpenFisca style); where DOMAIN.md records a doubt the
parameter carries a ``legal_note``. Rules decide one action each; precedence between
rules is written as an explicit ``exception_to`` label (Catala style). Two rules that
could both apply to the same action with different outcomes and no label between
them are an *unlabelled conflict* and the pack does not load.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from accord.domain.enums import Action, NoticeKind, Outcome, Recipient
from accord.errors import InputError, NotFoundError

from .expr import Node
from .expr import parse as _parse
from .facts import FACT_KINDS

PACK_DIR = Path(__file__).parent / "packs"
#: libyaml's safe loader where PyYAML was built with it (about 10x faster), else the pure-Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DECIDING = (Outcome.REQUIRE, Outcome.ALLOW, Outcome.DENY)


class PackError(InputError):
    """A pack file that is not valid law-as-code (bad citation, conflict, unknown fact...)."""


class LawDateError(InputError):
    """A date before the pack's first effective date: no law of this pack applies then."""


@dataclass(frozen=True)
class Parameter:
    name: str
    reference: str
    values: tuple[tuple[date, Any], ...]  # (from, value), sorted
    legal_note: str = ""
    description: str = ""

    def at(self, on: date) -> Any:
        i = bisect.bisect_right([d for d, _ in self.values], on) - 1
        if i < 0:
            raise LawDateError(f"parameter {self.name!r} has no value before {self.values[0][0]}", field=f"param.{self.name}")
        return self.values[i][1]


@dataclass(frozen=True)
class Rule:
    id: str
    action: Action
    outcome: Outcome
    citation: str
    summary: str
    effective_from: date
    effective_to: date | None
    condition_text: str
    condition: Node
    exception_to: str | None = None
    legal_note: str = ""

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


@dataclass(frozen=True)
class NoticeRule:
    """A notice the law requires when a decision comes out a certain way (to whom, by when)."""

    id: str
    kind: NoticeKind
    recipient: Recipient
    citation: str
    summary: str
    when_outcome: dict[Action, tuple[Outcome, ...]]
    due_from: str  # a datetime fact, or "hold_until"
    due_hours: Any  # int, or "param.<name>"
    business_days: bool = False
    condition: Node | None = None
    effective_from: date = date.min
    effective_to: date | None = None

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


@dataclass
class Pack:
    id: str
    name: str
    jurisdiction: str
    timezone: str
    version: str
    effective_from: date
    description: str
    citations: dict[str, dict[str, Any]]
    parameters: dict[str, Parameter]
    predicates: dict[str, Node]
    predicate_texts: dict[str, str]
    rules: tuple[Rule, ...]
    notices: tuple[NoticeRule, ...]
    source: str = ""
    _plans: dict[int, Any] = field(default_factory=dict, repr=False)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def boundaries(self) -> tuple[date, ...]:
        """Dates on which some rule or parameter of the pack changes; law is constant between them."""
        ds = {self.effective_from}
        for r in self.rules:
            ds.add(r.effective_from)
            if r.effective_to:
                ds.add(r.effective_to)
        for p in self.parameters.values():
            ds.update(d for d, _ in p.values)
        for n in self.notices:
            if n.effective_from > date.min:
                ds.add(n.effective_from)
            if n.effective_to:
                ds.add(n.effective_to)
        return tuple(sorted(d for d in ds if d >= self.effective_from))

    def epoch(self, on: date) -> int:
        """Index of the period of constant law containing ``on`` (a date before the pack is an error)."""
        if on < self.effective_from:
            raise LawDateError(
                f"{on.isoformat()} is before pack {self.id!r} first takes effect ({self.effective_from.isoformat()})", field="as_of"
            )
        return bisect.bisect_right(self.boundaries, on) - 1

    def params_at(self, on: date) -> dict[str, Any]:
        return {name: p.at(on) for name, p in self.parameters.items() if p.values[0][0] <= on}

    def rules_at(self, on: date) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.in_force(on))


_ACTIONS = {a.value: a for a in Action}


def list_packs() -> list[str]:
    """Ids of the packs shipped with Accord."""
    return sorted(p.stem for p in PACK_DIR.glob("*.yaml"))


_CACHE: dict[str, Pack] = {}


def load_pack(pack_id: str) -> Pack:
    """Load and validate a shipped pack by id (cached); unknown ids name the known ones."""
    if pack_id in _CACHE:
        return _CACHE[pack_id]
    path = PACK_DIR / f"{pack_id}.yaml"
    if not path.is_file():
        raise NotFoundError(f"unknown pack {pack_id!r}; known packs: {', '.join(list_packs())}")
    pack = load_pack_file(path)
    _CACHE[pack_id] = pack
    return pack


def load_pack_file(path: Path) -> Pack:
    try:
        raw = yaml.load(path.read_text(), Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        raise PackError(f"not valid YAML: {exc}", source=str(path)) from None
    return build_pack(raw, source=str(path))


def build_pack(raw: dict[str, Any], source: str = "<pack>") -> Pack:
    """Turn a pack's YAML mapping into a validated :class:`Pack`; every problem names its field."""
    b = _PackBuilder(raw, source)
    return b.build()


@dataclass
class _PackBuilder:
    raw: dict[str, Any]
    source: str

    def parse(self, text: str, *, facts: Any, predicates: Any, where: str) -> Node:
        try:
            return _parse(text, facts=facts, predicates=predicates, where=where)
        except InputError as exc:
            raise PackError(str(exc).removeprefix(f"field '{where}': "), source=self.source, field=where) from None

    def err(self, msg: str, fld: str) -> PackError:
        return PackError(msg, source=self.source, field=fld)

    def need(self, m: dict[str, Any], key: str, where: str) -> Any:
        if key not in m or m[key] in (None, ""):
            raise self.err("is required", f"{where}.{key}" if where else key)
        return m[key]

    def build(self) -> Pack:
        raw = self.raw
        if not isinstance(raw, dict):
            raise self.err("a pack must be a mapping", "<root>")
        tz = self.need(raw, "timezone", "")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.err(f"unknown time zone {tz!r}", "timezone") from None
        citations = {str(k): (v or {}) for k, v in (raw.get("citations") or {}).items()}
        params = {name: self.parameter(name, spec) for name, spec in (raw.get("parameters") or {}).items()}
        pred_texts = {str(k): str(v) for k, v in (raw.get("predicates") or {}).items()}
        preds = {k: self.parse(v, facts=FACT_KINDS, predicates=pred_texts, where=f"predicates.{k}") for k, v in pred_texts.items()}
        rules = tuple(self.rule(i, spec, citations, pred_texts) for i, spec in enumerate(self.need(raw, "rules", "")))
        notices = tuple(self.notice(i, spec, citations, pred_texts) for i, spec in enumerate(raw.get("notices") or ()))
        pack = Pack(
            id=self.need(raw, "id", ""),
            name=self.need(raw, "name", ""),
            jurisdiction=self.need(raw, "jurisdiction", ""),
            timezone=tz,
            version=str(self.need(raw, "version", "")),
            effective_from=self.date(self.need(raw, "effective_from", ""), "effective_from"),
            description=str(raw.get("description", "")).strip(),
            citations=citations,
            parameters=params,
            predicates=preds,
            predicate_texts=pred_texts,
            rules=rules,
            notices=notices,
            source=self.source,
        )
        self.check_references(pack)
        self.check_structure(pack)
        return pack

    def date(self, v: Any, fld: str) -> date:
        """An ISO date, or ``param.<name>``: a dated doubt (e.g. an effective date) kept as a parameter."""
        if isinstance(v, date):
            return v
        if isinstance(v, str) and v.startswith("param."):
            spec = (self.raw.get("parameters") or {}).get(v.removeprefix("param."))
            if not spec or not spec.get("values"):
                raise self.err(f"{v!r} names no parameter with a value", fld)
            return self.date(spec["values"][0]["value"], fld)
        try:
            return date.fromisoformat(str(v))
        except ValueError:
            raise self.err(f"{v!r} is not an ISO date", fld) from None

    def parameter(self, name: str, spec: dict[str, Any]) -> Parameter:
        where = f"parameters.{name}"
        values = self.need(spec, "values", where)
        dated = sorted((self.date(self.need(v, "from", f"{where}.values"), f"{where}.values.from"), v.get("value")) for v in values)
        return Parameter(
            name=name,
            reference=str(self.need(spec, "reference", where)),
            values=tuple(dated),
            legal_note=str(spec.get("legal_note", "")).strip(),
            description=str(spec.get("description", "")).strip(),
        )

    def rule(self, i: int, spec: dict[str, Any], citations: dict[str, Any], preds: dict[str, str]) -> Rule:
        where = f"rules[{i}]"
        rid = self.need(spec, "id", where)
        where = f"rules[{rid}]"
        action = self.need(spec, "action", where)
        if action not in _ACTIONS:
            raise self.err(f"unknown action {action!r}; one of {', '.join(_ACTIONS)}", f"{where}.action")
        outcome = self.need(spec, "outcome", where)
        if outcome not in {o.value for o in DECIDING}:
            raise self.err(f"outcome must be require, allow or deny, not {outcome!r}", f"{where}.outcome")
        citation = str(self.need(spec, "citation", where))
        if citation not in citations:
            raise self.err(f"citation {citation!r} is not in the pack's citation table", f"{where}.citation")
        text = str(spec.get("condition", "true"))
        to = spec.get("effective_to")
        return Rule(
            id=rid,
            action=_ACTIONS[action],
            outcome=Outcome(outcome),
            citation=citation,
            summary=str(self.need(spec, "summary", where)),
            effective_from=self.date(self.need(spec, "effective_from", where), f"{where}.effective_from"),
            effective_to=self.date(to, f"{where}.effective_to") if to else None,
            condition_text=text,
            condition=self.parse(text, facts=FACT_KINDS, predicates=preds, where=f"{where}.condition"),
            exception_to=spec.get("exception_to"),
            legal_note=str(spec.get("legal_note", "")).strip(),
        )

    def notice(self, i: int, spec: dict[str, Any], citations: dict[str, Any], preds: dict[str, str]) -> NoticeRule:
        where = f"notices[{i}]"
        citation = str(self.need(spec, "citation", where))
        if citation not in citations:
            raise self.err(f"citation {citation!r} is not in the pack's citation table", f"{where}.citation")
        when = {}
        for act, outs in (spec.get("when_outcome") or {}).items():
            if act not in _ACTIONS:
                raise self.err(f"unknown action {act!r}", f"{where}.when_outcome")
            when[_ACTIONS[act]] = tuple(Outcome(o) for o in outs)
        due_from = str(self.need(spec, "due_from", where))
        if due_from != "hold_until" and due_from not in FACT_KINDS:
            raise self.err(f"due_from must be a datetime fact or 'hold_until', not {due_from!r}", f"{where}.due_from")
        cond = spec.get("condition")
        to = spec.get("effective_to")
        return NoticeRule(
            id=str(self.need(spec, "id", where)),
            kind=NoticeKind(self.need(spec, "kind", where)),
            recipient=Recipient(self.need(spec, "recipient", where)),
            citation=citation,
            summary=str(self.need(spec, "summary", where)),
            when_outcome=when,
            due_from=due_from,
            due_hours=spec.get("due_hours", 0),
            business_days=bool(spec.get("business_days", False)),
            condition=self.parse(str(cond), facts=FACT_KINDS, predicates=preds, where=f"{where}.condition") if cond else None,
            effective_from=self.date(spec["effective_from"], f"{where}.effective_from") if spec.get("effective_from") else date.min,
            effective_to=self.date(to, f"{where}.effective_to") if to else None,
        )

    def check_references(self, pack: Pack) -> None:
        def walk(n: Node, where: str) -> None:
            for p in n.params():
                if p not in pack.parameters:
                    raise self.err(f"unknown parameter {p!r}", where)

        for name, n in pack.predicates.items():
            walk(n, f"predicates.{name}")
        for r in pack.rules:
            walk(r.condition, f"rules[{r.id}].condition")
        for n in pack.notices:
            if isinstance(n.due_hours, str) and n.due_hours.removeprefix("param.") not in pack.parameters:
                raise self.err(f"unknown parameter {n.due_hours!r}", f"notices[{n.id}].due_hours")

    def check_structure(self, pack: Pack) -> None:
        """Exceptions name a rule of the same action; siblings agree; one unconditional default per date."""
        ids = {r.id: r for r in pack.rules}
        if len(ids) != len(pack.rules):
            seen: set[str] = set()
            dup = next(r.id for r in pack.rules if r.id in seen or seen.add(r.id))  # type: ignore[func-returns-value]
            raise self.err(f"rule id {dup!r} is used twice", "rules")
        children: dict[str | None, list[Rule]] = defaultdict(list)
        for r in pack.rules:
            if r.exception_to is not None:
                parent = ids.get(r.exception_to)
                if parent is None:
                    raise self.err(f"exception_to names unknown rule {r.exception_to!r}", f"rules[{r.id}].exception_to")
                if parent.action is not r.action:
                    raise self.err(f"is an exception to {parent.id!r}, which decides another action", f"rules[{r.id}].exception_to")
            elif r.condition_text.strip() != "true":
                raise self.err("a default rule (no exception_to) must be unconditional; make it an exception to the default", f"rules[{r.id}].condition")
            children[r.exception_to].append(r)
        for r in pack.rules:
            chain, cur = [r.id], r
            while cur.exception_to is not None:
                cur = ids[cur.exception_to]
                if cur.id in chain:
                    raise self.err(f"exception_to forms a cycle: {' -> '.join(chain + [cur.id])}", f"rules[{r.id}].exception_to")
                chain.append(cur.id)
        for parent, kids in children.items():
            if parent is None:
                continue
            outs = {k.outcome for k in kids}
            if len(outs) > 1:
                ks = sorted(kids, key=lambda k: k.outcome.value)
                a, b = ks[0], ks[-1]
                raise self.err(
                    f"unlabelled conflict: {a.id!r} ({a.outcome.value}) and {b.id!r} ({b.outcome.value}) are both "
                    f"exceptions to {parent!r}; label one as an exception to the other",
                    "rules",
                )
        for d in pack.boundaries:
            for action in Action:
                roots = [r for r in children[None] if r.action is action and r.in_force(d)]
                if len(roots) != 1:
                    what = "no default rule" if not roots else f"{len(roots)} default rules ({', '.join(r.id for r in roots)})"
                    raise self.err(f"{what} for {action.value} in force on {d.isoformat()}", "rules")
