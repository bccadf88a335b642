"""Scenario files: per pack, YAML cases named after the clause they exercise, decided and checked.

Each file under ``scenarios/<pack>/`` names a clause and lists cases: a situation in
words, a date, the facts that differ from a plain I-247A (box 1, served, issued by
ICE, no judicial warrant, no criminal history), and the expected decision and citation
per action. Also here: every rule of every pack is cited from the pack's table.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest
import yaml

from accord.domain.enums import Action
from accord.domain.forms import form_in_use
from accord.law import decide, list_packs, load_pack
from accord.law.facts import FACT_SCHEMA
from accord.law.pack import LawDateError, PACK_DIR

SCENARIOS = Path(__file__).parent / "scenarios"

PLAIN = {
    name: (False if dtype == pl.Boolean() else None) for name, dtype in FACT_SCHEMA.items()
} | {
    "form": "I-247A",
    "issuing_component": "ICE",
    "requests_hold": True,
    "requests_notify": True,
    "requests_transfer": True,
    "served_on_subject": True,
    "judicial_warrant_judge_kind": "none",
    "judicial_warrant_basis": "none",
    "administrative_warrant_form": "I-200",
    "form_in_use_on_issue": True,
}


def _files():
    return sorted(SCENARIOS.glob("*/*.yaml"))


def _cases():
    for path in _files():
        doc = yaml.safe_load(path.read_text())
        for case in doc["cases"]:
            yield pytest.param(doc["pack"], case, id=f"{path.parent.name}/{path.stem}/{case['name']}")


def _value(name: str, v):
    dtype = FACT_SCHEMA[name]
    if v is None:
        return None
    if dtype == pl.Datetime("us", "UTC"):
        t = v if isinstance(v, datetime) else datetime.fromisoformat(str(v))
        return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
    if dtype == pl.Date():
        return v if isinstance(v, date) else date.fromisoformat(str(v))
    return v


def scenario_facts(case: dict) -> dict:
    day = case.get("received_on") or case["as_of"]
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    received = datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=17)
    facts = dict(PLAIN, received_at=received, release_eligible_at=received + timedelta(hours=72), arrested_at=received - timedelta(hours=48),
                 issued_on=day)
    for k, v in (case.get("facts") or {}).items():
        assert k in FACT_SCHEMA, f"scenario names unknown fact {k!r}"
        facts[k] = _value(k, v)
    if "issued_on" in (case.get("facts") or {}) and "form_in_use_on_issue" not in case["facts"]:
        # the catalogue of forms decides, as facts_from_case does (accord.domain.forms)
        facts["form_in_use_on_issue"] = form_in_use(facts["form"], facts["issued_on"]) if facts["issued_on"] and facts["form"] else None
    return facts


@pytest.mark.parametrize(("pack_id", "case"), list(_cases()))
def test_scenario(pack_id, case):
    pack = load_pack(pack_id)
    as_of = None if case.get("per_row_date") else case["as_of"]
    facts = scenario_facts(case)
    if "error" in case:
        with pytest.raises(LawDateError, match=case["error"]):
            decide(facts, pack, as_of)
        return
    d = decide(facts, pack, as_of)
    for action, want in case["expect"].items():
        got = d.decisions.get(Action(action))
        if want == "absent":
            assert got is None, f"{action}: not requested, yet decided {got}"
            continue
        want = want if isinstance(want, dict) else {"outcome": want}
        assert got is not None, f"{action}: no decision"
        assert got.outcome.value == want["outcome"], f"{action}: {got.outcome.value} by {got.rule_id}, fired {got.fired}, missing {got.missing}"
        if "citation" in want:
            assert got.citation == want["citation"]
        if "rule" in want:
            assert got.rule_id == want["rule"]
        for m in want.get("missing", ()):
            assert m in got.missing, f"{action}: expected {m} among missing facts {got.missing}"
        for m in want.get("not_missing", ()):
            assert m not in got.missing, f"{action}: {m} cannot change the answer, yet is listed as missing {got.missing}"
    for n in case.get("notices", ()):
        kind, _, recipient = n.partition(":")
        assert any(x.kind.value == kind and (not recipient or x.recipient.value == recipient) for x in d.notices), f"notice {n} not in {d.notices}"
    if "hold_until" in case:
        assert d.hold_until is not None and d.hold_until.isoformat() == case["hold_until"]


@pytest.mark.parametrize("pack_id", list_packs())
def test_each_pack_has_at_least_15_scenarios_and_each_file_exercises_its_clause(pack_id):
    files = [p for p in _files() if p.parent.name == pack_id]
    total = 0
    citations = set(load_pack(pack_id).citations)
    for path in files:
        doc = yaml.safe_load(path.read_text())
        assert doc["pack"] == pack_id and doc["clause"] in citations, f"{path.name}: clause not in the pack's citation table"
        cited = {w.get("citation") for c in doc["cases"] for w in c.get("expect", {}).values() if isinstance(w, dict)}
        assert doc["clause"] in cited, f"{path.name}: no case expects a decision citing {doc['clause']}"
        total += len(doc["cases"])
    assert total >= 15, f"{pack_id}: only {total} scenarios"


@pytest.mark.parametrize("pack_id", list_packs())
def test_every_rule_and_notice_is_cited_from_the_pack_table(pack_id):
    """Read the YAML itself (not the loader, which would refuse a bad pack before we looked)."""
    raw = yaml.safe_load((PACK_DIR / f"{pack_id}.yaml").read_text())
    table = raw["citations"]
    assert all(v.get("source") for v in table.values()), "every citation names its DOMAIN.md source keys"
    for item in raw["rules"] + raw.get("notices", []):
        assert item.get("citation"), f"{item['id']} has no citation"
        assert item["citation"] in table, f"{item['id']} cites {item['citation']!r}, not in the table"
    for name, p in raw["parameters"].items():
        assert p.get("reference"), f"parameter {name} has no legal reference"
