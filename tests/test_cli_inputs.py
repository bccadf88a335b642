"""Bad input at the command line is one clear line naming the problem (issue #12's trial), never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "src/accord/law/examples/nyc_case.json"
runner = CliRunner()


def _case(tmp_path: Path, change) -> Path:  # noqa: ANN001
    data = json.loads(CASE.read_text())
    change(data)
    out = tmp_path / "case.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize("content, message", [
    ("\ufeff{}".encode("utf-16"), "is UTF-16; save it as UTF-8"),
    (bytes(range(256)), "not a UTF-8 text file"),
    (b'{"detainer": "\\u0000"' + b"\x00" * 4, "NUL bytes"),
])
@pytest.mark.parametrize("command", [["decide", "--pack", "nyc_doc"], ["access", "check", "--no-record"]])
def test_undecodable_files_are_named_in_one_line(tmp_path: Path, content: bytes, message: str, command: list[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(content)
    res = runner.invoke(app, [*command, str(bad)])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert res.output.count("\n") == 1


def test_a_date_in_year_one_is_refused_naming_the_field(tmp_path: Path) -> None:
    def year_one(d: dict) -> None:
        d["detainer"]["issued_at"] = d["detainer"]["received_at"] = "0001-01-01T00:00:00Z"

    res = runner.invoke(app, ["decide", "--pack", "nyc_doc", str(_case(tmp_path, year_one))])
    assert res.exit_code == 2 and "field 'detainer.issued_at': must be a date between 1850 and 2199" in res.output


def test_an_escaped_nul_in_a_text_field_is_refused(tmp_path: Path) -> None:
    def nul(d: dict) -> None:
        d["custody"]["facility"] = "Rikers\u0000Island"

    res = runner.invoke(app, ["decide", "--pack", "nyc_doc", str(_case(tmp_path, nul))])
    assert res.exit_code == 2 and "field 'custody.facility': must not contain NUL" in res.output


def test_the_hint_after_decide_record_can_be_copied(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'try.db'}"
    res = runner.invoke(app, ["decide", "--pack", "nyc_doc", str(CASE), "--record", "--db", db], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    hint = next(line for line in res.output.splitlines() if "accord explain" in line)
    command = hint.split("`")[1].split()
    assert command[:2] == ["accord", "explain"] and command[3:] == ["--db", db]
    assert runner.invoke(app, command[1:]).exit_code == 0


def test_db_that_is_neither_a_url_nor_a_sqlite_path_is_refused_and_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in (["init"], ["events"], ["ingest", "x.jsonl"]):
        res = runner.invoke(app, [*command, "--db", "nonsense"])
        assert res.exit_code == 2 and "field 'db': 'nonsense' is not a database URL" in res.output
    assert list(tmp_path.iterdir()) == []
    assert runner.invoke(app, ["init", "--db", "ok.sqlite"]).exit_code == 0


def test_ids_are_never_cut_at_80_columns(tmp_path: Path) -> None:
    res = runner.invoke(app, ["packs", "list"], env={"COLUMNS": "80"})
    assert res.exit_code == 0 and "…" not in res.output
    folded = "".join(line.split("│")[1].strip() for line in res.output.splitlines() if line.startswith("│"))
    assert "federal_baseline" in folded


def test_packs_show_help_names_the_real_default() -> None:
    res = runner.invoke(app, ["packs", "show", "--help"], env={"COLUMNS": "200"})
    assert "the pack's latest change" in res.output and "the day the detainer was received" not in res.output
