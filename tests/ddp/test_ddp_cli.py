"""`accord import ddp` as a person runs it: a summary in words, or one JSON object as the last line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from accord.cli import app
from helpers.ddp_release import N, header

runner = CliRunner()
KEYS = {"rows", "imported", "rejected", "likely_duplicates", "unknown_values", "sha256", "already_imported"}


def test_json_is_the_last_line_and_holds_the_counts(release_copy, tmp_path: Path) -> None:
    path = release_copy("oct_2025", "csv")
    db = tmp_path / "i.db"
    res = runner.invoke(app, ["import", "ddp", str(path), "--db", str(db), "--json", "--rejects", str(tmp_path / "r.csv")])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert KEYS <= set(out)
    assert (out["rows"], out["imported"], out["rejected"], out["likely_duplicates"]) == (N, 294, 6, 5)
    assert out["unknown_values"][header("oct_2025", "criminality")] == 2 and not out["already_imported"]
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 1 + 6

    again = runner.invoke(app, ["import", "ddp", str(path), "--db", str(db), "--json"])
    second = json.loads(again.stdout.strip().splitlines()[-1])
    assert again.exit_code == 0 and second["already_imported"] and second["imported"] == 0
    assert second["sha256"] == out["sha256"] and second["earlier"]["imported"] == 294


def test_summary_in_words_and_the_rerun_says_so(release_copy, tmp_path: Path) -> None:
    path = release_copy("latest", "xlsx")
    db = tmp_path / "i.db"
    first = runner.invoke(app, ["import", "ddp", str(path), "--db", str(db), "--release", "Synthetic test release"],
                          env={"COLUMNS": "200"})
    assert first.exit_code == 0, first.output
    text = first.stdout
    assert f"Synthetic test release: {N} rows read from 2 sheets" in text
    assert "imported 294 as stream import/ddp/" in text and "rejected 6" in text and f"{path.name}.rejects.csv" in text
    assert "likely duplicates: 5 rows in 2 groups" in text and "Detainer Lift Reason 74" in text
    again = runner.invoke(app, ["import", "ddp", str(path), "--db", str(db)], env={"COLUMNS": "200"})
    assert again.exit_code == 0 and "already imported" in again.stdout and "nothing was appended" in again.stdout
    assert "'Synthetic test release'" in again.stdout


def test_a_bad_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "release.xlsx"
    bad.write_bytes(b"not a workbook")
    res = runner.invoke(app, ["import", "ddp", str(bad), "--db", str(tmp_path / "i.db")])
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "release.xlsx" in lines[0]
