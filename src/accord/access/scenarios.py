"""Scenario files: a situation, a date and the decision the law gives (openfisca-style tests).

A scenario YAML names the pack, the request's local date, the requester (a preset from
``agencies.yaml`` next to the scenarios, optionally with fields overridden), the request and what
is expected: the decision, a citation that must be among the deciding policies', optionally the
deciding policy id and the exact notices owed (kind and local due date). The file is named after
the clause it exercises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any

import yaml

from accord.errors import InputError

from .gateway import Gateway
from .model import AccessDecision, AccessRequest
from .packs import load_pack

CUSTODIAN = "CUSTODIAN"  # placeholder in presets for the pack's custodian agency id


@dataclass(frozen=True)
class Scenario:
    path: Path
    description: str
    pack: str
    parameters: dict[str, Any]
    request: AccessRequest
    expect: dict[str, Any]


def load_scenario(path: Path, presets: dict[str, dict] | None = None) -> Scenario:
    raw = yaml.safe_load(path.read_text())
    where = str(path)
    for key in ("description", "pack", "date", "requester", "request", "expect"):
        if key not in raw:
            raise InputError("missing", source=where, field=key)
    if presets is None:
        presets = _presets(path.parent)
    params = raw.get("parameters") or {}
    pack = load_pack(raw["pack"], **params)
    requester = _requester(raw["requester"], presets, pack.custodian_agency_id, where)
    req = dict(raw["request"])
    has_subject = req.pop("subject", True)
    moment = datetime.combine(raw["date"], time.fromisoformat(str(raw.get("time", "12:00"))), pack.timezone)
    request = {
        "request_id": path.stem.replace("_", "-")[:100],
        "requester_agency_id": requester["agency_id"],
        "custodian_agency_id": pack.custodian_agency_id,
        "subject_person_id": "person-1" if has_subject else None,
        "requested_at": moment.isoformat(),
        **req,
    }
    doc = {"request": request, "requester": requester,
           "notice_would_impede_investigation": raw.get("notice_would_impede_investigation", False)}
    try:
        areq = AccessRequest.model_validate_json(json.dumps(doc, default=str))
    except ValueError as exc:
        raise InputError(f"not a valid request: {exc}", source=where) from exc
    return Scenario(path, raw["description"], raw["pack"], params, areq, raw["expect"])


def run_scenario(s: Scenario) -> tuple[AccessDecision, list[str]]:
    """Decide the scenario; return the decision and what differs from the expectation."""
    pack = load_pack(s.pack, **s.parameters)
    decision = Gateway(pack).check(s.request)
    want, problems = s.expect, []
    if decision.outcome != want["decision"]:
        problems.append(f"decision {decision.outcome!r}, expected {want['decision']!r}")
    if want.get("citation") not in decision.citations:
        problems.append(f"citations {list(decision.citations)}, expected {want.get('citation')!r} among them")
    if "policy" in want and want["policy"] not in [p.id for p in decision.deciding]:
        problems.append(f"deciding {[p.id for p in decision.deciding]}, expected {want['policy']!r}")
    if "notices" in want:
        got = sorted((n.kind.value, n.due_by.astimezone(pack.timezone).date()) for n in decision.notices())
        exp = sorted((n["kind"], n["due"]) for n in want["notices"] or [])
        if got != exp:
            problems.append(f"notices {got}, expected {exp}")
    if decision.errors:
        problems.append(f"evaluation errors: {list(decision.errors)}")
    return decision, problems


def _presets(directory: Path) -> dict[str, dict]:
    for d in (directory, directory.parent):
        if (d / "agencies.yaml").is_file():
            return yaml.safe_load((d / "agencies.yaml").read_text())
    return {}


def _requester(spec: Any, presets: dict[str, dict], custodian: str, where: str) -> dict:
    if isinstance(spec, str):
        spec = {"preset": spec}
    spec = dict(spec)
    name = spec.pop("preset", None)
    if name is not None and name not in presets:
        raise InputError(f"unknown agency preset {name!r}", source=where, field="requester")
    agency = {**(presets.get(name) or {}), **spec}
    return json.loads(json.dumps(agency, default=str).replace(f'"{CUSTODIAN}"', json.dumps(custodian)))


def scenario_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.yaml") if p.name != "agencies.yaml")
