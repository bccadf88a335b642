"""`accord synth history` and `accord simulate` from the command line, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app

runner = CliRunner()


def test_history_then_simulate_prints_and_writes_the_same_table(tmp_path: Path):
    res = runner.invoke(app, ["synth", "history", str(tmp_path / "h"), "--rows", "3000", "--seed", "2"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "w.json"
    res = runner.invoke(app, ["simulate", "--history", str(tmp_path / "h"), "--pack", "texas", "--against", "nyc_doc", "--json", str(out)])
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    rows = {r["metric"]: r for r in data["table"]}
    assert rows["detainers"]["nyc_doc"] == rows["detainers"]["texas"] == 3000
    assert rows["holds"]["texas"] > rows["holds"]["nyc_doc"]
    assert f"{rows['declined']['nyc_doc']:,}" in res.output
    assert data["rule_drivers"][0]["rule_b"].startswith("tx.")


def test_a_law_compared_with_itself_says_nothing_differs_rather_than_printing_an_empty_table(tmp_path: Path):
    res = runner.invoke(app, ["synth", "history", str(tmp_path / "h"), "--rows", "500", "--seed", "3"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["simulate", "--history", str(tmp_path / "h"), "--pack", "nyc_doc", "--against", "nyc_doc"])
    assert res.exit_code == 0, res.output
    assert "Which rules drove the difference: none;" in res.output
    assert "decided differently under nyc_doc than under nyc_doc" in " ".join(res.output.split())


def test_bad_input_names_the_field_without_a_traceback(tmp_path: Path):
    res = runner.invoke(app, ["simulate", "--history", str(tmp_path / "missing"), "--pack", "texas", "--against", "nyc_doc"])
    assert res.exit_code == 2 and "history" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["synth", "history", str(tmp_path / "x"), "--rows", "0"])
    assert res.exit_code == 2 and "rows" in res.output
