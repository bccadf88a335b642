"""A detainer form is judged by the day it was issued (DOMAIN.md §6.2; issue #14 point 1).

The catalogue (``accord.domain.forms``) dates every form; ``facts_from_case`` turns a request's
issue day into the facts ``issued_on`` and ``form_in_use_on_issue``; every pack cites the
catalogue's clause; bad input (an unknown form, an issue date after the received date) is one
line naming the field.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from accord.cli import app
from accord.domain.enums import Action, DetainerForm
from accord.domain.forms import CATALOGUE, CITATION, form_in_use, form_spec
from accord.errors import InputError
from accord.law import DetainerCase, decide, list_packs, load_pack
from accord.law.facts import facts_from_case
from accord.law.pack import PACK_DIR

EXAMPLE = Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json"


def _case(form: str, issued_at: str, received_at: str) -> DetainerCase:
    raw = json.loads(EXAMPLE.read_text())
    d = raw["detainer"]
    d.update(form=form, issued_at=issued_at, received_at=received_at, served_at=None)
    if form != "I-247A":
        d.pop("box1_hold_and_notify")
        d.pop("administrative_warrant")
    return DetainerCase.model_validate_json(json.dumps(raw))


def test_every_form_is_in_the_catalogue_with_sources():
    assert set(CATALOGUE) == set(DetainerForm)
    assert all(spec.sources and spec.citation == CITATION for spec in CATALOGUE.values())
    assert [f.value for f, s in CATALOGUE.items() if s.in_use_until is None] == ["I-247A"]


def test_legacy_forms_are_in_use_until_the_day_before_2_april_2017():
    for form in ("I-247", "I-247D", "I-247N", "I-247X"):
        assert form_in_use(form, date(2017, 4, 1)) and not form_in_use(form, date(2017, 4, 2)), form
    assert form_in_use("I-247A", date(2017, 4, 2)) and form_in_use("I-247A", date(2026, 1, 1))


def test_an_unknown_form_name_is_an_error_naming_the_field():
    with pytest.raises(InputError, match="field 'form': unknown detainer form 'I-999'"):
        form_spec("I-999")


def test_facts_carry_the_issue_day_and_the_forms_validity_on_it():
    before = facts_from_case(_case("I-247D", "2017-04-01T15:00:00Z", "2017-04-03T15:00:00Z"), date(2017, 4, 3))
    after = facts_from_case(_case("I-247D", "2017-04-03T14:00:00Z", "2017-04-03T15:00:00Z"), date(2017, 4, 3))
    assert (before["issued_on"], before["form_in_use_on_issue"]) == (date(2017, 4, 1), True)
    assert (after["issued_on"], after["form_in_use_on_issue"]) == (date(2017, 4, 3), False)
    # the day is counted in Eastern time: 02:30 UTC on 2 April is still 1 April in Washington
    late = facts_from_case(_case("I-247D", "2017-04-02T02:30:00Z", "2017-04-03T15:00:00Z"), date(2017, 4, 3))
    assert (late["issued_on"], late["form_in_use_on_issue"]) == (date(2017, 4, 1), True)


@pytest.mark.parametrize("pack_id", ["federal_baseline", "nyc_doc", "nyc_nypd", "texas", "cook_county"])
def test_a_case_on_a_form_rescinded_before_issue_is_refused_citing_the_catalogue(pack_id):
    pack = load_pack(pack_id)
    case = _case("I-247D", "2019-05-01T14:00:00Z", "2019-05-01T15:00:00Z")
    d = decide(case, pack)
    assert d.facts["form_in_use_on_issue"] is False and d.facts["issued_on"] == date(2019, 5, 1)
    hold = d.decisions[Action.HOLD_PAST_RELEASE]
    assert (hold.outcome.value, hold.citation) == ("deny", CITATION)
    valid = decide(_case("I-247D", "2017-03-01T14:00:00Z", "2017-03-01T15:00:00Z"), pack, date(2019, 5, 1))
    assert valid.decisions[Action.HOLD_PAST_RELEASE].citation != CITATION


@pytest.mark.parametrize("pack_id", list_packs())
def test_every_pack_cites_the_catalogue_and_reads_the_new_facts(pack_id):
    raw = yaml.safe_load((PACK_DIR / f"{pack_id}.yaml").read_text())
    assert CITATION in raw["citations"]
    assert any(r.get("condition") == "form_out_of_use" for r in raw["rules"]), f"{pack_id} has no rule for a rescinded form"


def test_cli_bad_form_and_bad_issue_date_are_one_line_naming_the_field(tmp_path):
    raw = json.loads(EXAMPLE.read_text())
    runner = CliRunner()
    cases = []
    bad_form = json.loads(json.dumps(raw))
    bad_form["detainer"]["form"] = "I-999"
    cases.append((bad_form, "field 'detainer.form'"))
    late = json.loads(json.dumps(raw))
    late["detainer"]["issued_at"] = "2024-03-05T14:00:00Z"  # after received_at 2024-03-04T15:30Z
    cases.append((late, "field 'detainer.received_at'"))
    for i, (doc, field) in enumerate(cases):
        path = tmp_path / f"case{i}.json"
        path.write_text(json.dumps(doc))
        res = runner.invoke(app, ["decide", "--pack", "federal_baseline", str(path)], env={"COLUMNS": "300"})
        assert res.exit_code == 2, res.output
        assert field in res.output and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert "issued_at" in res.output and "before it was issued" in res.output
