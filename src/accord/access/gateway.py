"""Decide a record request under a pack and say what the custodian owes because of it.

Every check asks Cedar two questions in one batch call, against the policy set in force on the
request's date: may the requester take this action (``read``/``bulk_read``/``photo_match``), and
which notices are owed (``owe_notices``, answered by ``@obligation`` policies). Cedar skips a
policy whose condition errors, so a broken ``forbid`` would let a request through: here any
evaluation error makes the outcome *deny* and is recorded, and an obligation policy that errors
is treated as owed.

Cedar's answers are deterministic, so an error-free answer is kept and reused for any later request
that the window's policies cannot tell apart from the one that asked: same requester entities,
record kind, action, the context attributes the policies read, and the request's time in the same
place among the datetimes it is compared with (``Gateway._decision_key``; whether a window's
policies allow this is worked out from their syntax at load, ``packs.request_time_only_compared``).
Property tests compare a memoising gateway with one that asks Cedar every time.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Sequence

import cedarpy
import orjson

from accord.domain.enums import NoticeKind, Recipient

from .deadlines import due_by
from .entities import RECORD_ENTITIES, agency_entities, chosen_certifications, entity_key, request_context
from .model import AccessDecision, AccessRequest, Obligation, PolicyRef
from .packs import Pack, PolicyInfo, PolicyWindow, load_pack, pack_for_custodian, schema

_RECORD_ATTRS = {e["uid"]["id"]: e["attrs"] for e in RECORD_ENTITIES if e["uid"]["type"] == "Accord::Record"}
_ABSENT = object()
_OWE_NOTICES = {"type": "Accord::Action", "id": "owe_notices"}
_ERRORED_POLICY = re.compile(r"policy `([^`]+)`")
EVALUATION_ERROR = PolicyRef(
    id="accord.evaluation_error", effect="error",
    citation="Accord gateway: an evaluation error denies (fail closed)",
    explanation="A policy could not be evaluated, so Accord denies the request rather than skip the policy.",
)


@dataclass(frozen=True)
class _RequesterFacts:
    """What the memo keys need of a requester's entities: their cache key, the requester's Cedar
    entity, and every datetime value in them (Accord's UTC text form)."""

    entity_key: tuple
    principal: dict
    datetimes: tuple[str, ...]  # sorted, distinct
    points_comparable: bool  # all in the fixed-width UTC form, so text order is time order


class _Answer:
    """A kept, error-free Cedar answer: what :meth:`Gateway._verdict` reads of an ``AuthzResult``."""

    __slots__ = ("allowed", "reasons")
    errors: tuple[str, ...] = ()

    def __init__(self, allowed: bool, reasons: tuple[str, ...]) -> None:
        self.allowed, self.reasons = allowed, reasons

    @property
    def diagnostics(self) -> "_Answer":
        return self


def _datetimes_in(value: Any, out: list[str]) -> None:
    """Append every Cedar ``datetime`` literal argument found in ``value`` (entity or context JSON)."""
    if isinstance(value, dict):
        extn = value.get("__extn")
        if isinstance(extn, dict) and extn.get("fn") == "datetime":
            out.append(extn["arg"])
            return
        for v in value.values():
            _datetimes_in(v, out)
    elif isinstance(value, list):
        for v in value:
            _datetimes_in(v, out)


def context_shape(value: Any) -> Any:
    """What Cedar's request validation reads of a context: its keys and their value types, not the values.

    Two contexts of one shape (asked with one action) both conform to the schema or both do not.
    Keys stay in their order: the same keys in another order only make another shape, checked once more.

    >>> context_shape({"a": "x", "t": {"__extn": {"fn": "datetime", "arg": "2020-01-01T00:00:00Z"}}, "r": {"b": True}})
    (('a', <class 'str'>), ('t', ('__extn', 'datetime')), ('r', (('b', <class 'bool'>),)))
    """
    cls = type(value)
    if cls is dict:
        if len(value) == 1:
            for escape in ("__extn", "__entity"):
                inner = value.get(escape)
                if type(inner) is dict:
                    return (escape, inner.get("fn") if escape == "__extn" else inner.get("type"))
        out = []
        for k, v in value.items():
            leaf = type(v)
            out.append((k, leaf if leaf is str or leaf is bool else context_shape(v)))
        return tuple(out)
    if cls is list:
        return ("set", tuple([context_shape(v) for v in value]))
    return cls


def _fixed_width_utc(text: Any) -> bool:
    """``2020-09-23T15:41:00Z``: the only form Accord writes, whose text order is time order."""
    return type(text) is str and len(text) == 20 and text[10] == "T" and text[19] == "Z" and text[4] == "-"


class Gateway:
    """Decides requests under one pack. Parses entities once per requester and reuses the handles.

    ``memo=False`` asks Cedar every decision question (the tests compare both ways).

    Requests are checked against the schema once per *shape* (the action and the context's keys and
    value types, :func:`context_shape`: all Cedar's request validation reads): a question of a shape
    not yet seen error-free goes to Cedar with the schema, and Cedar refuses it if it does not conform
    (the gateway then denies, naming the error); later questions of that shape go without it, which
    saves about a third of Cedar's time per question. ``validate_requests=True`` sends the schema
    with every question (the validated path the property tests compare with).
    """

    def __init__(self, pack: Pack | str, *, cache_size: int = 4096, memo: bool = True,
                 validate_requests: bool = False):
        self.pack = load_pack(pack) if isinstance(pack, str) else pack
        self._schema = schema()
        self._base = cedarpy.Entities.from_json_str(json.dumps(RECORD_ENTITIES), self._schema)
        self._entities: OrderedDict[Any, cedarpy.Entities] = OrderedDict()
        self._cache_size = cache_size
        self._verdicts: dict[tuple, tuple] = {}
        self._refs = {p.id: _ref(p) for p in self.pack.policies}
        self._default_deny = PolicyRef(id=f"{self.pack.id}.default_deny", effect="default_deny",
                                       citation=self.pack.default_deny_citation,
                                       explanation=self.pack.default_deny_explanation)
        self._facts: dict[int, _RequesterFacts] = {}  # entities handle id -> what the memo keys need of it
        #: memoised Cedar answers: [decision, owe_notices], each by its key (see check_many)
        self._memo = memo
        self._memo_of: tuple[dict[tuple, _Answer], dict[tuple, _Answer]] = ({}, {})
        self._memo_size = cache_size * 16
        self._validate_all = validate_requests
        self._valid_shapes: set[tuple] = set()  # (action id, context shape) Cedar accepted with the schema
        self._answers: dict[tuple, _Answer] = {}  # the distinct kept answers (a few per window)
        #: Cedar questions put and questions answered (two per request), for the benchmark's figures
        self.questions_asked = self.questions_answered = 0

    # -- public -------------------------------------------------------------------------------
    def as_of(self, areq: AccessRequest) -> date:
        """The date whose law decides: the request's local date where the custodian is."""
        return areq.request.requested_at.astimezone(self.pack.timezone).date()

    def check(self, areq: AccessRequest, as_of: date | None = None) -> AccessDecision:
        return self.check_many([areq], as_of)[0]

    def check_many(self, areqs: Sequence[AccessRequest], as_of: date | None = None) -> list[AccessDecision]:
        """Decide many requests, batching those that share a policy set and requester into one call.

        Each request puts two questions to Cedar: its action, and ``owe_notices``. An answer is
        memoised under a key of exactly what the window's policies can read (:meth:`_decision_key`,
        :meth:`_owed_key`); a request whose key was answered before, in this batch or an earlier
        one, takes that answer. Answers carrying an evaluation error are never shared or kept:
        each request that would share one asks Cedar itself.
        """
        groups: dict[tuple[int, int], list[int]] = {}
        prepared = []
        asked: tuple[dict[tuple, int], dict[tuple, int]] = ({}, {})  # per question: key -> the request that asks
        self.questions_answered += 2 * len(areqs)
        tz = self.pack.timezone
        for i, areq in enumerate(areqs):
            on = as_of or self.as_of(areq)
            window = self.pack.window(on)
            entities = self._entities_for(areq, on)
            ctx = request_context(areq, tz)
            facts = self._facts[id(entities)]
            req = areq.request
            resource_id = req.record_kind._value_
            keys = (self._decision_key(window, facts, resource_id, req.action._value_, ctx) if self._memo else None,
                    self._owed_key(window, facts.principal, resource_id, ctx))
            answers: list[Any] = [None, None]
            questions: list[dict | None] = [None, None]
            checks: list[tuple | None] = [None, None]  # per question asked: its shape, if the schema must check it
            cedar_requests = None  # built only when Cedar is asked (most answers come from the memo)
            for q, key in enumerate(keys):
                if key is not None:
                    answers[q] = self._memo_of[q].get(key)
                    if answers[q] is None and key in asked[q]:
                        continue  # another request of this batch asks the same question
                    if answers[q] is None:
                        asked[q][key] = i
                if answers[q] is None:
                    if cedar_requests is None:
                        cedar_requests, shape = self._requests_for(areq, ctx), context_shape(ctx)
                    questions[q] = cedar_requests[q]
                    checks[q] = self._shape_to_check(cedar_requests[q]["action"]["id"], shape)
            prepared.append([on, window, entities, questions, answers, keys, checks])
            groups.setdefault((id(window), id(entities)), []).append(i)
        for members in groups.values():
            _, window, entities = prepared[members[0]][:3]
            asks = [(q, prepared[i][6][n]) for i in members for n, q in enumerate(prepared[i][3]) if q is not None]
            if not asks:
                continue
            self.questions_asked += len(asks)
            results = iter(self._ask(asks, window.policy_set, entities))
            for i in members:
                entry = prepared[i]
                for q, question in enumerate(entry[3]):
                    if question is not None:
                        answer = next(results)
                        if not answer.diagnostics.errors:  # kept (shared with equal answers) whether memoised or not
                            answer = self._kept(answer)
                            key = entry[5][q]
                            if key is not None:
                                memo = self._memo_of[q]
                                if len(memo) >= self._memo_size:
                                    memo.clear()
                                memo[key] = answer
                        entry[4][q] = answer
        out: list[AccessDecision] = []
        for i, (on, window, entities, _, answers, keys, _) in enumerate(prepared):
            for q in (0, 1):
                if answers[q] is None:  # shares the answer another request of this batch asked for
                    answer = prepared[asked[q][keys[q]]][4][q]
                    if answer.diagnostics.errors:  # an errored answer is never shared: ask for this one
                        self.questions_asked += 1
                        answer = cedarpy.is_authorized(self._cedar_inputs(areqs[i])[1 + q], window.policy_set,
                                                       entities, self._schema)  # rare: always validated
                    answers[q] = answer
            out.append(self._interpret(areqs[i], on, window, answers[0], answers[1]))
        return out

    def _shape_to_check(self, action_id: str, shape: tuple) -> tuple | None:
        """``(action id, shape)`` when a question of this shape must go to Cedar with the schema, else None."""
        key = (action_id, shape)
        return key if self._validate_all or key not in self._valid_shapes else None

    def _ask(self, asks: Sequence[tuple[dict, tuple | None]], policies: cedarpy.PolicySet,
             entities: cedarpy.Entities) -> list[cedarpy.AuthzResult]:
        """Cedar's answers to ``asks`` (question, shape to check or None), in order: one batch call for
        the questions of known shapes, one with the schema for the others; a shape whose validated
        answer has no error is known from then on."""
        plain = [q for q, check in asks if check is None]
        if len(plain) == len(asks):
            return cedarpy.is_authorized_batch(plain, policies, entities)
        checked = [(q, check) for q, check in asks if check is not None]
        answers = cedarpy.is_authorized_batch([q for q, _ in checked], policies, entities, self._schema)
        if not self._validate_all:
            self._valid_shapes.update(check for (_, check), a in zip(checked, answers) if not a.diagnostics.errors)
        if not plain:
            return answers
        plain_answers = iter(cedarpy.is_authorized_batch(plain, policies, entities))
        checked_answers = iter(answers)
        return [next(checked_answers) if check is not None else next(plain_answers) for _, check in asks]

    def _kept(self, answer: cedarpy.AuthzResult) -> "_Answer":
        """The part of an error-free answer that deciding reads, shared between equal answers (memory:
        a full AuthzResult with its metrics is ~5 KB)."""
        kept = _Answer(answer.allowed, tuple(sorted(answer.diagnostics.reasons)))
        return self._answers.setdefault((kept.allowed, kept.reasons), kept)

    def _decision_key(self, window: PolicyWindow, facts: "_RequesterFacts", resource_id: str, action_id: str,
                      ctx: dict) -> tuple | None:
        """Memo key for the decision: everything the window's decision policies can see, with the
        request's time reduced to where it falls among the other datetimes of the request.

        Sound when :func:`~accord.access.packs.request_time_only_compared` holds for the window
        (checked at load): the time then enters the evaluation only through comparisons with
        attribute values, all of which are among ``facts.datetimes`` (the requester's entities;
        record entities hold none) or in the context, and those comparisons come out the same for
        any two times in the same place among them. The requester is in the key whole (its
        ``entity_key``), as are the record kind, the action and every context attribute the
        policies read. Datetimes are compared as text: all are Accord's fixed-width UTC form,
        checked here (anything else: no key).
        """
        if not window.decisions_memoisable:
            return None
        moment = ctx["request_time"]["__extn"]["arg"]
        if not facts.points_comparable or not _fixed_width_utc(moment):
            return None
        points = facts.datetimes  # sorted, distinct
        extra: list[str] = []
        key: list[Any] = [id(window), facts.entity_key, resource_id, action_id]
        for _, attr in window.decision_context_attrs:
            if attr == "request_time":
                continue
            value = ctx.get(attr, _ABSENT)
            if isinstance(value, dict):
                _datetimes_in(value, extra)
                key.append((attr, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()))  # str: exact size
            else:
                key.append((attr, value if value is not _ABSENT else "\x00absent"))
        if extra:
            if not all(_fixed_width_utc(t) for t in extra):
                return None
            points = tuple(sorted({*points, *extra}))
        # Where the time falls among the sorted, distinct points: how many are before it and whether
        # it equals the next one, which fixes the outcome of every comparison with each of them.
        at = bisect_left(points, moment)
        key.append((at, at < len(points) and points[at] == moment))
        return tuple(key)

    def _owed_key(self, window: PolicyWindow, principal: dict, resource_id: str, ctx: dict) -> tuple | None:
        """Memo key for the owe_notices answer: the values the window's obligation policies read.

        Sound because Cedar's answer depends only on those values (see :class:`ReadSet`); when
        the policies use the context or the requester whole, nothing is memoised.
        """
        reads = window.obligation_reads
        if "context" in reads.whole or "action" in reads.whole:
            return None
        resource = _RECORD_ATTRS[resource_id]
        key: list[Any] = [id(window)]
        if "principal" in reads.whole:
            key.append(json.dumps(principal, sort_keys=True))
        if "resource" in reads.whole:
            key.append(resource_id)
        for var, attr in sorted(reads.attrs):
            source = principal["attrs"] if var == "principal" else resource if var == "resource" else ctx
            value = source.get(attr, _ABSENT)
            key.append(value if isinstance(value, (str, bool, int)) else json.dumps(value, sort_keys=True))
        return tuple(key)

    # -- Cedar inputs ---------------------------------------------------------------------------
    def _entities_for(self, areq: AccessRequest, on: date) -> cedarpy.Entities:
        agency = areq.requester
        picks = chosen_certifications(agency, on)
        key = entity_key(agency, picks)
        handle = self._entities.get(key)
        if handle is None:
            added = agency_entities(agency, picks, self.pack.timezone)
            handle = self._base.with_added_json_str(json.dumps(added), self._schema)
            self._entities[key] = handle
            points: list[str] = []
            _datetimes_in(added, points)
            self._facts[id(handle)] = _RequesterFacts(key, added[0], tuple(sorted(set(points))),
                                                      all(_fixed_width_utc(t) for t in points))
            if len(self._entities) > self._cache_size:
                _, old = self._entities.popitem(last=False)
                self._facts.pop(id(old), None)
        return handle

    def _cedar_requests(self, areq: AccessRequest) -> tuple[dict, dict]:
        """The two questions put to Cedar for this request: the action, then ``owe_notices``."""
        return self._cedar_inputs(areq)[1:]

    def _cedar_inputs(self, areq: AccessRequest) -> tuple[dict, dict, dict]:
        """The context (as a dict, for the memo keys) and both Cedar requests."""
        context = request_context(areq, self.pack.timezone)
        return (context, *self._requests_for(areq, context))

    def _requests_for(self, areq: AccessRequest, context: dict) -> tuple[dict, dict]:
        """The two Cedar requests: the action, then ``owe_notices``.

        The context goes to Cedar as JSON text serialised once for both questions (cedarpy
        takes a dict or its JSON; a dict it would serialise again for each request).
        """
        req = areq.request
        principal = {"type": "Accord::Agency", "id": req.requester_agency_id}
        resource = {"type": "Accord::Record", "id": req.record_kind._value_}
        text = orjson.dumps(context).decode()
        return (
            {"principal": principal, "action": {"type": "Accord::Action", "id": req.action._value_},
             "resource": resource, "context": text},
            {"principal": principal, "action": _OWE_NOTICES, "resource": resource, "context": text},
        )

    # -- Cedar outputs --------------------------------------------------------------------------
    def _interpret(self, areq: AccessRequest, on: date, window: PolicyWindow,
                   decision: cedarpy.AuthzResult, owed: cedarpy.AuthzResult) -> AccessDecision:
        outcome, deciding, obligated, errors = self._verdict(window, decision, owed)
        req = areq.request
        # Every value below is built here from validated inputs, so skip re-validation (hot path).
        return AccessDecision.trusted(
            request_id=req.request_id, requester_agency_id=req.requester_agency_id,
            custodian_agency_id=req.custodian_agency_id, record_kind=req.record_kind._value_,
            action=req.action._value_, outcome=outcome, pack=self.pack.id, pack_version=self.pack.version,
            as_of=on, law_in_force_from=window.start, law_in_force_to=window.end,
            deciding=deciding, obligations=tuple(self._obligations(areq, obligated, outcome)),
            errors=errors,
        )

    def _verdict(self, window: PolicyWindow, decision: cedarpy.AuthzResult, owed: cedarpy.AuthzResult
                 ) -> tuple[str, tuple[PolicyRef, ...], tuple[PolicyInfo, ...], tuple[str, ...]]:
        """Outcome, deciding policies, obligation policies and errors from Cedar's two answers.

        A pure function of the window and the answers' decisions and reason sets, so answers
        without errors are memoised on exactly those (errored answers are always worked out).
        """
        key: tuple | None = None
        if type(decision) is _Answer and type(owed) is _Answer:
            # Kept answers are one object per (allowed, reasons) and never dropped (``_kept``): their ids
            # stand for their content, and are cheaper to hash than frozensets of the reasons.
            key = (id(window), id(decision), id(owed))
            hit = self._verdicts.get(key)
            if hit is not None:
                return hit
        d, o = decision.diagnostics, owed.diagnostics
        if key is None and not d.errors and not o.errors:
            key = (id(window), decision.allowed, frozenset(d.reasons), frozenset(o.reasons))
            hit = self._verdicts.get(key)
            if hit is not None:
                return hit
        errors = [*d.errors, *o.errors]
        fired = [window.by_id[r] for r in d.reasons if r in window.by_id]
        obligated = [window.by_id[r] for r in o.reasons if r in window.by_id]
        stray = [p.id for p in obligated if p.obligation is None]
        if stray:
            errors.append(f"decision policies answered owe_notices: {', '.join(stray)}")
            obligated = [p for p in obligated if p.obligation is not None]
        for message in o.errors:  # fail safe towards the person: an errored notice is owed
            m = _ERRORED_POLICY.search(message)
            p = window.by_id.get(m.group(1)) if m else None
            if p is not None and p.obligation is not None and p not in obligated:
                obligated.append(p)
        order = window.order
        fired.sort(key=lambda p: order[p.id])  # Cedar reports reasons in no fixed order
        obligated.sort(key=lambda p: order[p.id])
        allowed = decision.allowed and not errors
        refs = self._refs
        if allowed:
            deciding = [refs[p.id] for p in fired if p.effect == "permit"]
        else:
            deciding = [refs[p.id] for p in fired if p.effect == "forbid"]
            if errors:
                deciding.append(EVALUATION_ERROR)
            elif not deciding:
                deciding.append(self._default_deny)
        verdict = ("allow" if allowed else "deny", tuple(deciding), tuple(obligated), tuple(errors))
        if key is not None and not errors:
            if len(self._verdicts) >= self._cache_size:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _obligations(self, areq: AccessRequest, policies: Iterable[PolicyInfo], outcome: str) -> list[Obligation]:
        req, pack, out = areq.request, self.pack, []
        for p in policies:
            spec = p.obligation
            assert spec is not None
            if spec.on_decision not in ("any", outcome):
                continue
            # Built from the validated request and the pack loaded at start: no re-validation.
            out.append(Obligation.trusted(
                policy_id=p.id, kind=spec.kind, recipient=spec.recipient,
                person_id=req.subject_person_id if spec.recipient is Recipient.SUBJECT else None,
                due_by=due_by(req.requested_at, spec.days, spec.business_days, pack.timezone,
                              pack.holiday_country, pack.holiday_subdivision),
                days=spec.days, business_days=spec.business_days, citation=p.citation,
                explanation=p.explanation,
                fulfilled_by_record=spec.kind is NoticeKind.REQUESTER_IDENTITY_LOG,
            ))
        return out


def _ref(p: PolicyInfo) -> PolicyRef:
    return PolicyRef(id=p.id, effect=p.effect, citation=p.citation, explanation=p.explanation,
                     legal_note=p.legal_note)


def check(areq: AccessRequest, as_of: date | None = None, *, pack: Pack | str | None = None) -> AccessDecision:
    """Decide one request under its custodian's pack (or ``pack``); gateways are kept and reused."""
    chosen = pack if pack is not None else pack_for_custodian(areq.request.custodian_agency_id)
    return gateway_for(chosen).check(areq, as_of)


_GATEWAYS: dict[str, Gateway] = {}


def gateway_for(pack: Pack | str) -> Gateway:
    p = load_pack(pack) if isinstance(pack, str) else pack
    key = f"{p.directory}:{id(p)}"
    if key not in _GATEWAYS:
        _GATEWAYS[key] = Gateway(p)
    return _GATEWAYS[key]
