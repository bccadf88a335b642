"""Every policy validates against the schema, carries a citation, and the sets follow the dates."""

import json
from datetime import date
from pathlib import Path

import cedarpy
import pytest

from accord.access.entities import CERTIFICATION_SLOTS
from accord.access.errors import PolicyError
from accord.access.packs import list_packs, load_pack, schema, schema_text
from helpers.packs import one_file_pack

PACKS = list_packs()


def test_the_three_packs_are_bundled() -> None:
    assert {"ny_dmv", "certified_le_only", "ma_rmv"} <= set(PACKS)


@pytest.mark.parametrize("name", PACKS)
def test_every_policy_file_validates_against_the_schema(name: str) -> None:
    pack = load_pack(name)
    for f in sorted(pack.directory.glob("*.cedar")):
        result = cedarpy.validate_policies(f.read_text(), schema())
        assert result.validation_passed, f"{f.name}: {[str(e) for e in result.errors]}"


@pytest.mark.parametrize("name", PACKS)
def test_every_policy_has_id_citation_explanation_and_start_date(name: str) -> None:
    pack = load_pack(name)
    texts = "\n".join(f.read_text() for f in pack.directory.glob("*.cedar"))
    est = json.loads(cedarpy.policies_to_json_str(texts))["staticPolicies"]
    assert est, "a pack has policies"
    for body in est.values():
        ann = body.get("annotations", {})
        for key in ("id", "citation", "explanation", "effective_from"):
            assert ann.get(key), f"policy {ann.get('id')} lacks @{key}"


def test_certification_slots_match_the_schema() -> None:
    for slot in CERTIFICATION_SLOTS:
        assert f"{slot}?: Certificate" in schema_text()


def test_ny_policy_sets_change_on_the_law_s_dates() -> None:
    pack = load_pack("ny_dmv")
    ids = lambda on: {p.id for p in pack.in_force(on)}  # noqa: E731
    assert ids(date(2019, 12, 13)) == {"ny.dppa.government_function"}
    assert "ny.vtl_201_12_a.immigration_agency.2019" in ids(date(2019, 12, 14))
    assert "ny.vtl_201_12_a.immigration_agency.2020" not in ids(date(2020, 4, 2))
    assert "ny.vtl_201_12_a.immigration_agency.2020" in ids(date(2020, 4, 3))
    assert "ny.vtl_201_12_a.immigration_agency.2019" not in ids(date(2020, 4, 3))


def test_effective_date_is_a_parameter_with_a_legal_note() -> None:
    param = load_pack("ny_dmv").parameters["green_light_effective"]
    assert param.value == date(2019, 12, 14) and "Q5" in (param.legal_note or "")
    later = load_pack("ny_dmv", green_light_effective=date(2019, 12, 16))
    assert not any("201_12" in p.id for p in later.in_force(date(2019, 12, 15)))
    # the certification duty follows the Act's date unless set on its own
    assert later.parameters["certification_duty_from"].value == date(2019, 12, 16)


def test_unknown_parameter_override_is_refused() -> None:
    with pytest.raises(PolicyError, match="no such parameter"):
        load_pack("ny_dmv", green_light_efective=date(2019, 12, 16))


def _pack(tmp_path: Path, policy: str, name: str = "p") -> Path:
    return one_file_pack(tmp_path, policy, name, custodian="c")


def test_policy_without_citation_is_refused_at_load(tmp_path: Path) -> None:
    d = _pack(tmp_path, '@id("x") @explanation("e") @effective_from("2020-01-01")\n'
                        'permit(principal, action in Accord::Action::"access", resource);')
    with pytest.raises(PolicyError, match="@citation"):
        load_pack(str(d))


def test_policy_that_does_not_validate_is_refused_at_load(tmp_path: Path) -> None:
    d = _pack(tmp_path, '@id("x") @citation("c") @explanation("e") @effective_from("2020-01-01")\n'
                        'permit(principal, action in Accord::Action::"access", resource) when { principal.no_such_attr };')
    with pytest.raises(PolicyError, match="do not validate"):
        load_pack(str(d))


def test_decision_policy_must_not_answer_the_obligation_question(tmp_path: Path) -> None:
    d = _pack(tmp_path, '@id("x") @citation("c") @explanation("e") @effective_from("2020-01-01")\n'
                        'permit(principal, action, resource);')
    with pytest.raises(PolicyError, match="must name its actions"):
        load_pack(str(d))
