"""Replaying an imported release under each pack, with honest unknowns, on a release built here by hand.

The fixture (39 data rows, synthetic) and what each law makes of it, worked out from the packs' rules
(src/accord/law/packs/*.yaml) and what the release can say (accord.ddp.history):

====  ==  =====  ===========================  ============  =====
group n   state  criminality                  type          date
====  ==  =====  ===========================  ============  =====
G1    8   NY     2 Pending Criminal Charges   Hold          2024-03
G2    6   TX     1 Convicted Criminal (MSC)   Hold          2024-03
G3    4   CA     3 Other Immigration Violator Notification  2024-03
G4    10  NY     2 Pending Criminal Charges   Hold          2013-06  (+2 likely duplicates of its first row)
G5    5   NY     1 Convicted Criminal (MSC)   Hold          2013-06
G6    3   TX     3 Other Immigration Violator Notification  2013-06
R     1   NY     prepare date 2099-01-01: rejected
====  ==  =====  ===========================  ============  =====

A hold asks for all three actions; a notification asks to be notified and not held, and whether it asks
for custody at release is unknown (``requests_transfer`` null). No conviction ICE knew of makes every
conviction fact false; a convicted row's conviction facts are unknown. The release never holds a
judicial warrant, the terrorist-screening flag, status proof, registry flags or release dates.

NYC DOC. In force from 2014-12-14 (§9-131 as amended): hold and notify allowed only with a judicial
warrant AND (a recent violent-or-serious conviction OR a terrorist-screening match). With the warrant and
the screening flag unknown, every 2024 row is undecided (G1, G2, G3), even without a conviction: the
screening flag alone could make the danger limb true. 2011-11-22..2014-12-13 law: honoured only for a
covered-crime conviction; no conviction (G4) -> every action denied (declined); a conviction whose class is
unknown (G5) -> undecided; G6: notify denied, transfer undecided (the form may not have asked).
=> declined 10 (G4), depends 26; hold asked by 29 (G1 G2 G4 G5): denied 10, undecided 19.

Texas (from 2017-09-01): an ICE detainer must be complied with unless proof of status was presented,
which the release never says: every 2024 row depends on ``status_proof_presented`` (18); the 2013 rows
were received before the law took effect (18), not decided.

California (from 2018-01-01): never hold (G1, G2 holds denied: 14; G4, G5 before the law: 15); notify and transfer depend on facts
the release lacks (registry, federal felony warrant, judicial warrant...): the 18 2024 rows depend; the
18 2013 rows are before the law.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.ddp.importer import import_release
from accord.ddp.sample import release_frame, write_parquet
from accord.ledger import Ledger
from accord.reports.build import build_report
from accord.reports.export import history_from_ledger
from accord.reports.verify import verify_report
from accord.synth.replay import replay
from accord.synth.whatif import compare

TODAY = date(2026, 1, 1)
#: (group, rows, state, AOR, criminality, detainer type, prepare date)
GROUPS = (
    ("G1", 8, "NY", "NYC", "2 Pending Criminal Charges", "Hold", date(2024, 3, 5)),
    ("G2", 6, "TX", "HOU", "1 Convicted Criminal", "Hold", date(2024, 3, 12)),
    ("G3", 4, "CA", "LOS", "3 Other Immigration Violator", "Notification", date(2024, 3, 20)),
    ("G4", 10, "NY", "NYC", "2 Pending Criminal Charges", "Hold", date(2013, 6, 3)),
    ("G5", 5, "NY", "NYC", "1 Convicted Criminal", "Hold", date(2013, 6, 10)),
    ("G6", 3, "TX", "HOU", "3 Other Immigration Violator", "Notification", date(2013, 6, 17)),
)
HISTORY_ROWS = sum(g[1] for g in GROUPS)  # 36: the duplicates count once, the rejected row not at all
NY_JUDICIAL = {"judicial_warrant_judge_kind", "terrorist_screening_match"}


def _release() -> pl.DataFrame:
    rows: list[dict] = []
    for name, n, state, aor, crim, kind, prepared in GROUPS:
        for i in range(n):
            convicted = crim.startswith("1")
            rows.append({
                "Detainer Prepare Date": prepared, "Facility State": state, "Facility AOR": aor,
                "Detainer Criminality": crim, "Detainer Type": kind,
                "Detainer Facility": f"{state} County Jail", "Anonymized Identifier": f"{name}-{i:03d}",
                # the lift reasons of G1, G2 are not a wording Accord recognises: counted unknown
                "Detainer Lift Reason": "Released by LEA" if name in ("G1", "G2") else
                ("Detainer declined by LEA" if name == "G4" else None),
                "MSC Charge": "Robbery" if convicted else None, "MSC Charge Code": "1299" if convicted else None,
                "MSC Charge Date": date(2010, 1, 4) if convicted else None,
                "MSC Conviction Date": date(2010, 6, 1) if convicted else None,
            })
    first_g4 = next(r for r in rows if r["Anonymized Identifier"] == "G4-000")
    rows += [dict(first_g4), dict(first_g4)]  # the same person and prepare date twice more: likely duplicates
    rows.append({**rows[0], "Anonymized Identifier": "R-000", "Detainer Prepare Date": date(2099, 1, 1)})
    base = release_frame(len(rows), seed=3, people=None)
    hand = pl.DataFrame(rows, schema={c: base.schema[c] for c in rows[0]})
    nulls = ("MSC Sentence Days", "MSC Sentence Months", "MSC Sentence Years", "Detainer Lift Reason Code")
    return base.with_columns(*[hand[c] for c in hand.columns], *[pl.lit(None, base.schema[c]).alias(c) for c in nulls])


@pytest.fixture
def imported(db_url: str, tmp_path: Path) -> str:
    path = write_parquet(tmp_path / "hand.parquet", _release())
    with Ledger.open(db_url) as led:
        res = import_release(path, led, release="Hand-worked release", today=TODAY)
    assert (res.rows, res.imported, res.rejected, res.likely_duplicates) == (39, 38, 1, 3)
    return db_url


def _history(url: str):
    with Ledger.open(url, create=False) as led:
        return history_from_ledger(led)


def _facts(r) -> dict[str, int]:
    return dict(r.facts.iter_rows())


def _action(r, action: str) -> dict[str, int]:
    row = r.actions.filter(pl.col("action") == action).drop("group", "action").sum().row(0, named=True)
    return {k: int(v) for k, v in row.items()}


def test_nyc_declines_only_where_the_release_tells_and_names_what_the_rest_depends_on(imported: str) -> None:
    h = _history(imported)
    frame = h.frames["detainers"]
    assert frame.height == HISTORY_ROWS  # 38 imported, the two likely duplicates counted once
    r = replay(frame, "nyc_doc")
    total = r.outcomes.drop("group").sum().row(0, named=True)
    assert total == {"detainers": 36, "required": 0, "honoured": 0, "declined": 10, "depends": 26, "before_law": 0}
    assert _action(r, "hold_past_release") == {"requested": 29, "allow": 0, "require": 0, "deny": 10, "depends": 19,
                                               "before_law": 0}
    assert _action(r, "notify_release")["deny"] == 13 and _action(r, "notify_release")["depends"] == 23
    facts = _facts(r)
    # every 2024 row depends on the judicial warrant and the screening flag (G1 G2 G3); the 2013 convicted (G5)
    # on their conviction's class; G3, G6 on whether the form asked for custody at release
    assert facts["judicial_warrant_judge_kind"] == 18 and facts["terrorist_screening_match"] == 18
    assert facts["nyc_covered_crime_ever"] == 5 and facts["requests_transfer"] == 7
    # no conviction is a fact the release tells: never named as missing for G1, G4, G6
    assert facts["nyc_violent_or_serious_ever"] == 6  # G2 only
    text = r.sentence()
    assert "10 would be declined" in text and "26 depend on facts the data does not hold" in text
    assert "judicial warrant" in text


def test_by_state_office_and_month(imported: str) -> None:
    frame = _history(imported).frames["detainers"]
    by_state = {row["group"]: row for row in replay(frame, "nyc_doc", by="state").outcomes.iter_rows(named=True)}
    assert {k: v["detainers"] for k, v in by_state.items()} == {"CA": 4, "NY": 23, "TX": 9}
    assert by_state["NY"]["declined"] == 10 and by_state["NY"]["depends"] == 13
    months = dict(replay(frame, "texas", by="month").outcomes.select("group", "before_law").iter_rows())
    assert months == {"2013-06": 18, "2024-03": 0}
    offices = dict(replay(frame, "texas", by="office").outcomes.select("group", "depends").iter_rows())
    assert offices == {"HOU": 6, "LOS": 4, "NYC": 8}
    facilities = dict(replay(frame, "california", by="facility").outcomes.select("group", "detainers").iter_rows())
    assert facilities == {"CA County Jail": 4, "NY County Jail": 23, "TX County Jail": 9}


def test_texas_and_california_depend_on_what_the_release_lacks(imported: str) -> None:
    frame = _history(imported).frames["detainers"]
    tx = replay(frame, "texas")
    assert tx.outcomes.drop("group").sum().row(0, named=True) == {
        "detainers": 36, "required": 0, "honoured": 0, "declined": 0, "depends": 18, "before_law": 18}
    assert _facts(tx)["status_proof_presented"] == 18
    ca = replay(frame, "california")
    assert _action(ca, "hold_past_release") == {"requested": 29, "allow": 0, "require": 0, "deny": 14, "depends": 0,
                                                "before_law": 15}
    assert ca.outcomes["depends"].sum() == 18 and ca.outcomes["before_law"].sum() == 18
    assert {"ca_sex_or_arson_registrant", "outstanding_federal_felony_warrant"} <= set(_facts(ca))


def test_whatif_declined_leaves_undecided_rows_out(imported: str) -> None:
    w = compare(_history(imported).frames["detainers"], "texas", "nyc_doc")
    t = {r["metric"]: (r["texas"], r["nyc_doc"]) for r in w.table.iter_rows(named=True)}
    assert t["detainers"] == (36, 36)
    assert t["declined"] == (0, 10)  # Texas: nothing decided; NYC: only G4 is certainly declined


def test_simulate_cli_on_the_imported_ledger(imported: str, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    res = CliRunner().invoke(app, ["simulate", "--history", imported, "--pack", "nyc_doc", "--against", "texas",
                                   "--by", "state", "--json", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "10 would be declined" in res.stdout and "judicial_warrant_judge_kind" in res.stdout
    doc = json.loads(out.read_text())
    nyc = next(r for r in doc["replay"] if r["pack"] == "nyc_doc")
    assert {r["group"]: r["declined"] for r in nyc["outcomes"]} == {"CA": 0, "NY": 10, "TX": 0}
    bad = CliRunner().invoke(app, ["simulate", "--history", imported, "--pack", "nyc_doc", "--against", "texas",
                                   "--by", "county"])
    assert bad.exit_code != 0 and "by" in bad.output and "Traceback" not in bad.output


def test_release_section_and_report_verify(imported: str, tmp_path: Path) -> None:
    h = _history(imported)
    result = build_report(h, tmp_path / "rep")
    figures = {r["figure"]: r["count"] for r in json.loads((tmp_path / "rep" / "ddp_release.json").read_text())["rows"]}
    # 1 rejected and 2 left out are below the threshold of 10: hidden
    assert figures == {"rows": 39, "imported": 38, "rejected": None, "likely_duplicates": None, "duplicate_groups": None,
                       "left_out": None, "redacted": 39, "unknown": 14, "unreadable": 0}
    cols = {r["column"]: r for r in json.loads((tmp_path / "rep" / "ddp_release_columns.json").read_text())["rows"]}
    assert cols["Detainer Lift Reason"]["use"] == "used" and cols["Detainer Lift Reason"]["unknown"] == 14
    assert cols["Detainer Lift Reason"]["unknown_examples"] == "'Released by LEA'"
    assert cols["Birth Date"]["use"].startswith("ignored") and cols["Birth Date"]["redacted"] == 39
    facts = {r["fact"]: r for r in json.loads((tmp_path / "rep" / "ddp_release_facts.json").read_text())["rows"]}
    assert facts["judicial_warrant_judge_kind"]["known"] == 0 and facts["judicial_warrant_judge_kind"]["unknown"] == 36
    # 7 unknown is below the threshold: the whole row is hidden (known + unknown = the 36 rows shown elsewhere)
    assert facts["requests_transfer"]["known"] is None and facts["requests_transfer"]["unknown"] is None
    assert facts["nyc_violent_or_serious_ever"]["known"] == 25 and facts["nyc_violent_or_serious_ever"]["unknown"] == 11
    assert "ddp_release" in result.csv
    check = verify_report(tmp_path / "rep", db_url=imported)
    assert check.ok, check.mismatches
    assert {"ddp_release", "ddp_release_columns", "ddp_release_facts"} <= set(check.tables_checked)


def test_report_unchanged_without_imported_data(db_url: str, tmp_path: Path) -> None:
    with Ledger.open(db_url) as led:
        h = history_from_ledger(led)
    assert h.releases == []
    result = build_report(h, tmp_path / "rep")
    assert not any(name.startswith("ddp_") for name in result.csv)


def test_report_build_replay_sections_and_verify_on_the_cli(imported: str, tmp_path: Path) -> None:
    out = tmp_path / "rep"
    runner = CliRunner()
    res = runner.invoke(app, ["report", "build", "--db", imported, "--out", str(out), "--replay", "nyc_doc",
                              "--replay", "texas"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "replay_outcomes.json").read_text())["rows"]
    got = {(r["law"], r["outcome"]): r["detainers"] for r in rows}
    assert got == {("nyc_doc", "required"): 0, ("nyc_doc", "honoured"): 0, ("nyc_doc", "declined"): 10,
                   ("nyc_doc", "depends"): 26, ("nyc_doc", "before_law"): 0,
                   ("texas", "required"): 0, ("texas", "honoured"): 0, ("texas", "declined"): 0,
                   ("texas", "depends"): 18, ("texas", "before_law"): 18}
    facts = {(r["law"], r["fact"]): r["detainers"] for r in json.loads((out / "replay_unknown_facts.json").read_text())["rows"]}
    assert facts[("nyc_doc", "judicial_warrant_judge_kind")] == 18 and facts[("texas", "status_proof_presented")] == 18
    assert facts[("nyc_doc", "nyc_covered_crime_ever")] is None  # 5 detainers: below the threshold, hidden
    check = runner.invoke(app, ["report", "verify", str(out), "--db", imported], env={"COLUMNS": "200"})
    assert check.exit_code == 0, check.output
    assert "replay_outcomes: matches" in check.stdout and "ddp_release_facts: matches" in check.stdout
    bad = runner.invoke(app, ["report", "build", "--db", imported, "--out", str(tmp_path / "x"), "--by", "state"])
    assert bad.exit_code != 0 and "--replay" in bad.output and not (tmp_path / "x").exists()


def test_likely_duplicates_count_once_unless_asked_and_verify_recomputes_the_same(imported: str, tmp_path: Path) -> None:
    runner = CliRunner()
    counts = {}
    for name, extra in (("once", []), ("each", ["--include-duplicates"])):
        out = tmp_path / name
        res = runner.invoke(app, ["report", "build", "--db", imported, "--out", str(out), "--replay", "nyc_doc", *extra],
                            env={"COLUMNS": "200"})
        assert res.exit_code == 0, res.output
        rows = json.loads((out / "replay_outcomes.json").read_text())["rows"]
        counts[name] = {r["outcome"]: r["detainers"] for r in rows}
        check = runner.invoke(app, ["report", "verify", str(out), "--db", imported], env={"COLUMNS": "200"})
        assert check.exit_code == 0 and "replay_outcomes: matches" in check.stdout, check.output
    # G4's two likely duplicates (pending charges, 2013: declined under NYC's law then) count in the second only
    assert counts["once"]["declined"] == 10 and counts["each"]["declined"] == 12
    assert {k: v for k, v in counts["each"].items() if k != "declined"} == {k: v for k, v in counts["once"].items() if k != "declined"}
    sim = runner.invoke(app, ["simulate", "--history", imported, "--pack", "nyc_doc", "--against", "texas",
                              "--include-duplicates"], env={"COLUMNS": "200"})
    assert sim.exit_code == 0, sim.output
    assert f"{HISTORY_ROWS + 2}" in sim.stdout
