"""Load a pack: its manifest, parameters and Cedar policies, partitioned by effective date.

Each policy carries its dates in ``@effective_from`` / ``@effective_to`` annotations (a date or
``param:NAME``, a pack parameter). At load the pack is cut at every such date into windows; each
window gets one pre-parsed ``cedarpy.PolicySet`` holding exactly the policies in force throughout
it. A request is decided by the window containing its date, so the law in force on that date
applies and no date test runs inside Cedar. Policies, schema and the sets are parsed once.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import cedarpy
import yaml

from accord.domain.enums import NoticeKind, Recipient

from .errors import PolicyError

HERE = Path(__file__).parent
SCHEMA_PATH = HERE / "schema" / "accord.cedarschema"
PACKS_DIR = HERE / "packs"
OBLIGATION_ACTION = {"type": "Accord::Action", "id": "owe_notices"}
REQUIRED_ANNOTATIONS = ("id", "citation", "explanation", "effective_from")


@dataclass(frozen=True)
class Parameter:
    name: str
    value: Any
    legal_note: str | None


@dataclass(frozen=True)
class ObligationSpec:
    kind: NoticeKind
    recipient: Recipient
    days: int
    business_days: bool
    on_decision: Literal["any", "allow", "deny"]


@dataclass(frozen=True)
class PolicyInfo:
    id: str
    effect: Literal["permit", "forbid"]
    citation: str
    explanation: str
    legal_note: str | None
    effective_from: date
    effective_to: date | None
    obligation: ObligationSpec | None
    source: str
    est: dict = field(repr=False, compare=False)

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.effective_to is None or on < self.effective_to)


@dataclass(frozen=True)
class ReadSet:
    """What a group of policies can read: attributes of principal, resource and context, and
    which of those variables they use whole (scope constraints, ``in``, ``==``).

    Two requests that agree on everything read get the same answer from those policies, which
    is what makes memoising the ``owe_notices`` answer sound.
    """

    attrs: frozenset[tuple[str, str]]
    whole: frozenset[str]

    @classmethod
    def of(cls, bodies: list[dict]) -> "ReadSet":
        attrs: set[tuple[str, str]] = set()
        whole: set[str] = set()
        for body in bodies:
            for var in ("principal", "resource"):
                if body[var].get("op") != "All":
                    whole.add(var)
            if body["action"].get("op") != "==":
                whole.add("action")
            for cond in body.get("conditions", []):
                _walk(cond["body"], attrs, whole)
        return cls(frozenset(attrs), frozenset(whole))


def _walk(node: Any, attrs: set, whole: set) -> None:
    if isinstance(node, dict):
        for op in (".", "has"):
            inner = node.get(op)
            if isinstance(inner, dict) and isinstance(inner.get("left"), dict) and "Var" in inner["left"]:
                attrs.add((inner["left"]["Var"], inner["attr"]))
                return
        if "Var" in node:
            whole.add(node["Var"])
            return
        for v in node.values():
            _walk(v, attrs, whole)
    elif isinstance(node, list):
        for v in node:
            _walk(v, attrs, whole)


_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
#: Extension constructors whose literal values would be comparison points the memo does not see.
_LITERAL_EXTENSIONS = ("datetime", "duration", "decimal", "ip")


def _is_request_time(node: Any) -> bool:
    inner = node.get(".") if isinstance(node, dict) else None
    return isinstance(inner, dict) and inner.get("left") == {"Var": "context"} and inner.get("attr") == "request_time"


def _is_attribute_chain(node: Any) -> bool:
    """``principal.a.b``, ``context.x``...: attribute reads down from a request variable."""
    inner = node.get(".") if isinstance(node, dict) else None
    if not isinstance(inner, dict) or set(inner) != {"left", "attr"}:
        return False
    left = inner["left"]
    return (isinstance(left, dict) and set(left) == {"Var"}) or _is_attribute_chain(left)


def request_time_only_compared(bodies: list[Any]) -> bool:
    """True when ``context.request_time`` appears only as one side of a comparison whose other side is
    an attribute read, and the policies hold no extension literal (``datetime("...")`` and the like).

    Then a request's answer depends on its time only through where that time falls among the
    datetime values of the entities and context, which is what lets the gateway memoise decisions
    (see ``Gateway._decision_key``). Anything else (``.toDate()``, ``.offset(...)``, a literal, a
    comparison with another expression) makes this False, and nothing is memoised.
    """
    def safe(node: Any) -> bool:
        if isinstance(node, list):
            return all(safe(v) for v in node)
        if not isinstance(node, dict):
            return True
        if any(k in node for k in _LITERAL_EXTENSIONS) or _is_request_time(node):
            return False
        for op in _COMPARISONS:
            sides = node.get(op)
            if isinstance(sides, dict) and set(sides) == {"left", "right"}:
                left, right = sides["left"], sides["right"]
                if _is_request_time(left) or _is_request_time(right):
                    other = right if _is_request_time(left) else left
                    return _is_attribute_chain(other) and not _is_request_time(other)
        return all(safe(v) for v in node.values())

    return all(safe(c["body"]) for body in bodies for c in body.get("conditions", []))


@dataclass(frozen=True)
class PolicyWindow:
    """The policies in force from ``start`` (inclusive) to ``end`` (exclusive; None = open)."""

    start: date | None
    end: date | None
    policies: tuple[PolicyInfo, ...]
    policy_set: cedarpy.PolicySet = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {p.id: p for p in self.policies})
        object.__setattr__(self, "order", {p.id: i for i, p in enumerate(self.policies)})
        obligations = [p for p in self.policies if p.obligation is not None]
        object.__setattr__(self, "has_obligations", bool(obligations))
        object.__setattr__(self, "obligation_reads", ReadSet.of([p.est for p in obligations]))
        deciding = [p.est for p in self.policies if p.obligation is None]
        reads = ReadSet.of(deciding)
        object.__setattr__(self, "decisions_memoisable",
                           "context" not in reads.whole and request_time_only_compared(deciding))
        object.__setattr__(self, "decision_context_attrs", tuple(sorted(a for a in reads.attrs if a[0] == "context")))


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    version: str
    custodian_agency_id: str
    jurisdiction: str
    timezone: ZoneInfo
    holiday_country: str
    holiday_subdivision: str | None
    default_deny_citation: str
    default_deny_explanation: str
    parameters: dict[str, Parameter]
    policies: tuple[PolicyInfo, ...]
    windows: tuple[PolicyWindow, ...]
    directory: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [w.start or date.min for w in self.windows])

    def window(self, on: date) -> PolicyWindow:
        """The window whose policies are in force on ``on``."""
        return self.windows[bisect.bisect_right(self._starts, on) - 1]

    def in_force(self, on: date) -> tuple[PolicyInfo, ...]:
        return self.window(on).policies


@lru_cache(maxsize=1)
def schema_text() -> str:
    return SCHEMA_PATH.read_text()


@lru_cache(maxsize=1)
def schema() -> cedarpy.Schema:
    """The shared Cedar schema, parsed once."""
    return cedarpy.Schema.from_str(schema_text())


def list_packs() -> list[str]:
    return sorted(p.parent.name for p in PACKS_DIR.glob("*/pack.yaml"))


def pack_for_custodian(custodian_agency_id: str) -> Pack:
    """The bundled pack of the agency that holds the records (the law of the jurisdiction that holds them)."""
    for name in list_packs():
        p = load_pack(name)
        if p.custodian_agency_id == custodian_agency_id:
            return p
    raise PolicyError(f"no pack for custodian '{custodian_agency_id}'; name one with --pack "
                      f"({', '.join(list_packs())})")


def load_pack(pack: str, **overrides: Any) -> Pack:
    """Load a bundled pack by id, or a pack directory by path (for tests and custodians' own packs).

    ``overrides`` replace parameter values (e.g. ``green_light_effective=date(2019, 12, 16)``);
    each must name a parameter the pack declares. Loaded packs are cached.
    """
    return _load_cached(pack, tuple(sorted(overrides.items())))


@lru_cache(maxsize=32)
def _load_cached(pack: str, overrides: tuple[tuple[str, Any], ...]) -> Pack:
    directory = Path(pack) if ("/" in pack or pack.startswith(".")) else PACKS_DIR / pack
    if not (directory / "pack.yaml").is_file():
        raise PolicyError(f"unknown pack '{pack}': choose one of {', '.join(list_packs())}")
    return _load(directory, dict(overrides))


def _load(directory: Path, overrides: dict[str, Any]) -> Pack:
    manifest_path = directory / "pack.yaml"
    try:
        manifest = yaml.safe_load(manifest_path.read_text())
    except yaml.YAMLError as exc:
        raise PolicyError(f"{manifest_path}: not valid YAML: {exc}") from exc
    where = str(manifest_path)
    raw_params = dict(manifest.get("parameters") or {})
    for name, value in overrides.items():
        if name not in raw_params:
            raise PolicyError(f"{where}: cannot set parameter '{name}': the pack has no such parameter")
        raw_params[name] = {**raw_params[name], "value": value}
    params = _parameters(raw_params, where)
    policies: list[PolicyInfo] = []
    for name in _required(manifest, "policies", where):
        policies.extend(_load_policy_file(directory / name, params))
    _check_unique(policies)
    holidays_cfg = manifest.get("holidays") or {}
    deny = _required(manifest, "default_deny", where)
    return Pack(
        id=_required(manifest, "id", where),
        title=_required(manifest, "title", where),
        version=str(_required(manifest, "version", where)),
        custodian_agency_id=_required(manifest, "custodian_agency_id", where),
        jurisdiction=_required(manifest, "jurisdiction", where),
        timezone=ZoneInfo(_required(manifest, "timezone", where)),
        holiday_country=holidays_cfg.get("country", "US"),
        holiday_subdivision=holidays_cfg.get("subdivision"),
        default_deny_citation=_required(deny, "citation", where),
        default_deny_explanation=_required(deny, "explanation", where),
        parameters=params,
        policies=tuple(policies),
        windows=_windows(policies),
        directory=directory,
    )


def _required(mapping: dict, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or mapping.get(key) in (None, ""):
        raise PolicyError(f"{where}: field '{key}' is missing")
    return mapping[key]


def _parameters(raw: dict, where: str) -> dict[str, Parameter]:
    params = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or "value" not in spec:
            raise PolicyError(f"{where}: field 'parameters.{name}': needs a 'value'")
        params[name] = Parameter(name, spec["value"], spec.get("legal_note"))
    for p in list(params.values()):  # resolve "param:OTHER" references (one level is enough here)
        if isinstance(p.value, str) and p.value.startswith("param:"):
            target = params.get(p.value[6:])
            if target is None:
                raise PolicyError(f"{where}: field 'parameters.{p.name}': unknown parameter {p.value!r}")
            params[p.name] = Parameter(p.name, target.value, p.legal_note)
    return params


def _load_policy_file(path: Path, params: dict[str, Parameter]) -> list[PolicyInfo]:
    try:
        text = path.read_text()
        est = json.loads(cedarpy.policies_to_json_str(text))
    except (OSError, ValueError) as exc:
        raise PolicyError(f"{path}: cannot parse policies: {exc}") from exc
    result = cedarpy.validate_policies(text, schema())
    if not result.validation_passed:
        names = result.id_annotations_by_policy_id
        detail = "; ".join(f"{names.get(e.policy_id, e.policy_id)}: {e.error}" for e in result.errors)
        raise PolicyError(f"{path}: policies do not validate against the schema: {detail}")
    if est.get("templates"):
        raise PolicyError(f"{path}: templates are not supported in packs")
    infos = []
    for body in est["staticPolicies"].values():
        info = _policy_info(body, path, params)
        if info is not None:
            infos.append(info)
    return infos


def _policy_info(body: dict, path: Path, params: dict[str, Parameter]) -> PolicyInfo | None:
    ann: dict[str, str] = body.get("annotations") or {}
    where = f"{path}: policy {ann.get('id', '(no @id)')}"
    for key in REQUIRED_ANNOTATIONS:
        if not ann.get(key):
            raise PolicyError(f"{where}: annotation '@{key}' is missing")
    if "if_parameter" in ann and not _parameter_holds(ann["if_parameter"], params, where):
        return None
    obligation = _obligation(ann, where) if "obligation" in ann else None
    is_obligation_scope = body["action"] == {"op": "==", "entity": OBLIGATION_ACTION}
    if obligation is not None and not is_obligation_scope:
        raise PolicyError(f"{where}: an @obligation policy must be scoped to action == Accord::Action::\"owe_notices\"")
    if obligation is None and (body["action"].get("op") == "All" or "owe_notices" in json.dumps(body["action"])):
        raise PolicyError(f"{where}: a decision policy must name its actions (e.g. action in Accord::Action::\"access\")")
    if obligation is not None and body["effect"] != "permit":
        raise PolicyError(f"{where}: an @obligation policy must be a permit")
    start = _date(ann["effective_from"], params, where, "effective_from")
    end = _date(ann["effective_to"], params, where, "effective_to") if ann.get("effective_to") else None
    if end is not None and end <= start:
        raise PolicyError(f"{where}: '@effective_to' must be after '@effective_from'")
    return PolicyInfo(
        id=ann["id"], effect=body["effect"], citation=ann["citation"], explanation=ann["explanation"],
        legal_note=ann.get("legal_note"), effective_from=start, effective_to=end, obligation=obligation,
        source=path.name, est=body,
    )


def _parameter_holds(expr: str, params: dict[str, Parameter], where: str) -> bool:
    """``name=value``, or several joined by commas (all must hold; Cedar allows one annotation per key)."""
    holds = True
    for part in expr.split(","):
        name, _, wanted = part.strip().partition("=")
        if name not in params:
            raise PolicyError(f"{where}: '@if_parameter' names unknown parameter '{name}'")
        holds &= str(params[name].value).lower() == wanted.strip().lower()
    return holds


def _date(raw: str, params: dict[str, Parameter], where: str, key: str) -> date:
    value: Any = raw
    if raw.startswith("param:"):
        if raw[6:] not in params:
            raise PolicyError(f"{where}: '@{key}' names unknown parameter '{raw[6:]}'")
        value = params[raw[6:]].value
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PolicyError(f"{where}: '@{key}' is not a date: {raw!r}") from exc


def _obligation(ann: dict[str, str], where: str) -> ObligationSpec:
    try:
        kind, recipient = NoticeKind(ann["obligation"]), Recipient(ann.get("recipient", ""))
    except ValueError as exc:
        raise PolicyError(f"{where}: {exc}") from exc
    business = "within_business_days" in ann
    raw_days = ann.get("within_business_days" if business else "within_days")
    if raw_days is None or not raw_days.isdigit():
        raise PolicyError(f"{where}: an @obligation needs '@within_days' or '@within_business_days' (a whole number)")
    on = ann.get("on_decision", "any")
    if on not in ("any", "allow", "deny"):
        raise PolicyError(f"{where}: '@on_decision' must be any, allow or deny")
    return ObligationSpec(kind, recipient, int(raw_days), business, on)  # type: ignore[arg-type]


def _check_unique(policies: list[PolicyInfo]) -> None:
    seen: set[str] = set()
    for p in policies:
        if p.id in seen:
            raise PolicyError(f"policy id '{p.id}' is used twice ({p.source})")
        seen.add(p.id)


def _windows(policies: list[PolicyInfo]) -> tuple[PolicyWindow, ...]:
    cuts = sorted({p.effective_from for p in policies} | {p.effective_to for p in policies if p.effective_to})
    bounds: list[tuple[date | None, date | None]] = [(None, cuts[0] if cuts else None)]
    bounds += [(a, b) for a, b in zip(cuts, cuts[1:] + [None])]
    windows = []
    for start, end in bounds:
        members = tuple(p for p in policies if start is not None and p.in_force(start))
        doc = {"staticPolicies": {p.id: p.est for p in members}, "templates": {}, "templateLinks": []}
        windows.append(PolicyWindow(start, end, members, cedarpy.PolicySet.from_json_str(json.dumps(doc))))
    return tuple(windows)
