"""`accord packs`, `accord decide --record` and `accord explain` as a person uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger

EXAMPLE = Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "300"})


def test_packs_list_names_all_six():
    res = invoke("packs", "list", "--json")
    assert res.exit_code == 0, res.output
    assert {p["id"] for p in json.loads(res.output)} == {"nyc_doc", "nyc_nypd", "california", "texas", "cook_county", "federal_baseline"}


def test_packs_show_lists_rules_in_force_and_parameter_notes():
    res = invoke("packs", "show", "texas", "--as-of", "2024-06-01")
    assert res.exit_code == 0, res.output
    assert "tx.hold.duty_2251" in res.output and "tx.hold.duty_2a060" not in res.output
    assert "cbp_detainers_covered" in res.output
    res = invoke("packs", "show", "texas", "--as-of", "2025-06-01")
    assert "tx.hold.duty_2a060" in res.output


def test_decide_json_gives_outcome_and_citation_per_action():
    res = invoke("decide", "--pack", "nyc_doc", str(EXAMPLE), "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    by_action = {d["action"]: d for d in out["decisions"]}
    assert by_action["hold_past_release"]["outcome"] == "allow"
    assert by_action["hold_past_release"]["citation"] == "NYC Admin Code §9-131(b)"
    assert by_action["allow_interview"]["outcome"] == "deny"
    assert out["law_date"] == "2024-03-04" and out["facts"]["judicial_warrant_judge_kind"] == "federal_magistrate"


def test_decide_record_then_explain_walks_back_to_the_detainer(db_url):
    res = invoke("decide", "--pack", "california", str(EXAMPLE), "--record", "--db", db_url, "--json")
    assert res.exit_code == 0, res.output
    rec = json.loads(res.output)["recorded"]
    with Ledger.open(db_url) as led:
        dec = led.get(rec["decision_seq"])
        det = led.get(dec.caused_by)
        assert dec.kind == "decision.made" and det.kind == "detainer.received"
        assert det.payload["request_id"] == "det-nyc-0001" and dec.stream == "detainer/det-nyc-0001"
        notices = [led.get(s) for s in rec["notice_seqs"]]
        assert notices and all(n.kind == "notice.due" and n.caused_by == det.seq for n in notices)
        assert any(n.payload["citation"] == "Cal. Gov. Code §7283.1(b)" for n in notices)
    # a second decision on the same detainer reuses its event
    res2 = invoke("decide", "--pack", "nyc_doc", str(EXAMPLE), "--record", "--db", db_url, "--json")
    assert json.loads(res2.output)["recorded"]["detainer_seq"] == rec["detainer_seq"]
    shown = invoke("explain", str(rec["decision_seq"]), "--db", db_url)
    assert shown.exit_code == 0, shown.output
    assert "Cal. Gov. Code §7284.6(a)(1)(B)" in shown.output and "may not" in shown.output
    assert "nyc_doc" not in shown.output  # only the decision asked about
    whole = invoke("explain", str(rec["detainer_seq"]), "--db", db_url)
    assert "california" in whole.output and "nyc_doc" in whole.output


def test_bad_input_is_one_clear_line_and_exit_2(tmp_path):
    bad = tmp_path / "case.json"
    bad.write_text(json.dumps({"detainer": {}}))
    cases = [
        (["decide", "--pack", "atlantis", str(EXAMPLE)], "unknown pack 'atlantis'"),
        (["decide", "--pack", "california", str(EXAMPLE), "--as-of", "2017-06-01"], "before pack 'california' first takes effect (2018-01-01)"),
        (["decide", "--pack", "california", str(bad)], "field 'detainer.request_id'"),
        (["decide", "--pack", "california", str(tmp_path / "none.json")], "no such file"),
        (["packs", "show", "texas", "--as-of", "June"], "'June' is not a date"),
    ]
    for args, message in cases:
        res = invoke(*args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output and "Traceback" not in res.output, res.output


def test_explain_of_an_unrelated_event_is_an_error(db_url, tmp_path):
    res = invoke("decide", "--pack", "texas", str(EXAMPLE), "--record", "--db", db_url, "--json")
    rec = json.loads(res.output)["recorded"]
    missing = invoke("explain", str(rec["decision_seq"] + 100), "--db", db_url)
    assert missing.exit_code == 2 and "no event with seq" in missing.output


def test_decide_and_explain_name_only_the_unknown_facts_that_could_change_the_answer(db_url, tmp_path):
    """Issue #14: screening flag unknown, no violent-or-serious conviction -> only the flag is named."""
    raw = json.loads(EXAMPLE.read_text())
    raw["person"]["terrorist_screening_possible_match"] = None
    raw["custody"]["convictions"] = []  # so the look-back date is null, and cannot matter
    case = tmp_path / "case.json"
    case.write_text(json.dumps(raw))
    res = invoke("decide", "--pack", "nyc_doc", str(case), "--record", "--db", db_url, "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    hold = {d["action"]: d for d in out["decisions"]}["hold_past_release"]
    assert hold["outcome"] == "insufficient_facts" and hold["missing"] == ["terrorist_screening_match"]
    assert out["facts"]["nyc_vs_lookback_from"] is None  # read by the rule, null, yet not missing
    shown = invoke("explain", str(out["recorded"]["decision_seq"]), "--db", db_url)
    assert shown.exit_code == 0, shown.output
    line = next(x for x in shown.output.splitlines() if "hold past release" in x)
    assert "terrorist_screening_match" in line and "nyc_vs_lookback_from" not in line
