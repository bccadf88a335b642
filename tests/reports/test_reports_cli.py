"""`accord report build` and `accord report verify`, from Parquet files and from a ledger, as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.reports.sample import write_sample_parquet
from accord.reports.source import hash_files

runner = CliRunner()


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("history")
    list(write_sample_parquet(root, 3000, chunk=1000, seed=21))
    return root


@pytest.fixture(scope="module")
def built(history: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    res = runner.invoke(app, ["report", "build", "--history", str(history), "--out", str(out), "--threshold", "10"])
    assert res.exit_code == 0, res.output
    return out


def test_build_writes_html_csv_json_stamped_with_the_files_hash(history: Path, built: Path):
    manifest = json.loads((built / "manifest.json").read_text())
    digest = hash_files([p for p in history.rglob("*.parquet")])
    assert manifest["source"]["sha256"] == digest
    assert (built / "report.html").stat().st_size > 500_000  # the Vega bundle is inlined
    package = json.loads((built / "datapackage.json").read_text())
    assert package["checkpoint"]["sha256"] == digest
    paths = {r["path"] for r in package["resources"]}
    for name, entry in manifest["tables"].items():
        csv_text = (built / entry["csv"]).read_text()
        assert not csv_text.startswith("#"), "a CSV starts with its header row"
        assert entry["csv"] in paths
        doc = json.loads((built / entry["json"]).read_text())
        assert doc["source"]["sha256"] == digest and doc["threshold"] == 10
        frame = pl.read_csv(built / entry["csv"])
        assert frame.columns == doc["columns"]
        assert frame.height == len(doc["rows"]) == entry["rows"], name


def test_the_datapackage_is_a_valid_frictionless_package(built: Path):
    """Validated with the ``frictionless`` package (a test dependency): descriptor and every CSV against its schema."""
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(built / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]


def test_verify_recomputes_every_table(history: Path, built: Path):
    res = runner.invoke(app, ["report", "verify", str(built), "--history", str(history)])
    assert res.exit_code == 0, res.output
    manifest = json.loads((built / "manifest.json").read_text())
    shown = len(manifest["tables"])
    assert f"All {shown} tables and sections the report shows match" in res.output
    assert "not checked" not in res.output


def test_verify_catches_an_edited_figure(history: Path, built: Path, tmp_path: Path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in built.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    path = copy / "detainers_by_period.csv"
    lines = path.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("2020-01,"))
    cells = lines[first].split(",")
    cells[1] = str(int(cells[1]) + 1)
    lines[first] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["report", "verify", str(copy), "--history", str(history)])
    assert res.exit_code == 3
    assert "detainers_by_period" in res.output and "differs" in res.output


def test_verify_catches_a_changed_history(history: Path, built: Path, tmp_path: Path):
    changed = tmp_path / "h"
    (changed / "detainers").mkdir(parents=True)
    for f in history.rglob("*.parquet"):
        dest = changed / f.relative_to(history)
        dest.write_bytes(f.read_bytes())
    part = changed / "detainers" / "part-00000.parquet"
    pl.read_parquet(part).head(900).write_parquet(part)
    res = runner.invoke(app, ["report", "verify", str(built), "--history", str(changed)])
    assert res.exit_code == 3
    assert "hash to" in res.output


@pytest.mark.parametrize("args, message", [
    (["report", "build", "--out", "x"], "no ledger at sqlite:///./accord.db"),
    (["report", "build", "--out", "x", "--db", "a.db", "--history", "."], "give --db URL or --history DIR, not both"),
    (["report", "verify", "x", "--db", "nonsense"], "'nonsense' is not a database URL"),
    (["report", "build", "--history", "/nonexistent/dir", "--out", "x"], "history directory not found"),
    (["report", "verify", "/nonexistent/report", "--history", "/tmp"], "manifest.json is missing"),
])
def test_bad_input_is_a_message_not_a_traceback(args, message, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ACCORD_DATABASE_URL", raising=False)
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output


def test_bad_backend_and_threshold(history: Path, tmp_path: Path):
    res = runner.invoke(app, ["report", "build", "--history", str(history), "--out", str(tmp_path), "--backend", "oracle"])
    assert res.exit_code == 2 and "backend" in res.output
    res = runner.invoke(app, ["report", "build", "--history", str(history), "--out", str(tmp_path), "--threshold", "0"])
    assert res.exit_code == 2 and "threshold" in res.output


def test_ledger_report_is_stamped_with_a_signed_checkpoint_and_verifies_after_the_ledger_grows(tmp_path: Path):
    from accord.demo import run_demo
    from accord.domain import Agency
    from accord.domain.enums import AgencyKind
    from accord.ledger import Ledger

    demo = run_demo(tmp_path / "demo", scale=0.01)
    url = demo.db_url
    out = tmp_path / "report"
    res = runner.invoke(app, ["report", "build", "--db", url, "--out", str(out)])
    assert res.exit_code == 0, res.output
    stamp = json.loads((out / "manifest.json").read_text())["source"]
    assert stamp["kind"] == "ledger" and stamp["signature"] and stamp["tree_size"] == demo.events
    detainers = pl.read_csv(out / "detainers_by_period.csv")
    with Ledger.open(url) as led:
        assert detainers.filter(pl.col("period") == "Total")["received"].item() == sum(
            1 for _ in led.events(kind="detainer.received"))
        led.append("agency.registered", Agency(agency_id="later-agency", name="Later", kind=AgencyKind.POLICE, jurisdiction="US-NY"))
    res = runner.invoke(app, ["report", "verify", str(out), "--db", url])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["report", "verify", str(out)])
    assert res.exit_code == 2
    # a report claiming a different root is refused
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["source"]["root_hash"] = "00" * 32
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(app, ["report", "verify", str(out), "--db", url])
    assert res.exit_code == 3 and "root" in res.output
    # a ledger stamp without its signature cannot be checked: a message, not a traceback
    del manifest["source"]["signature"]
    (out / "manifest.json").write_text(json.dumps(manifest))
    res = runner.invoke(app, ["report", "verify", str(out), "--db", url])
    assert res.exit_code == 2 and "signature" in res.output


def test_without_db_or_history_the_report_reads_the_ledger_every_command_reads(tmp_path: Path, monkeypatch):
    """``$ACCORD_DATABASE_URL`` (or ``./accord.db``), as ``accord ingest``, ``audit verify`` and the rest take it."""
    from helpers.service_world import booking, detainer

    db = tmp_path / "other.db"
    monkeypatch.setenv("ACCORD_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    record, person = booking(1)
    rows = [("person.registered", person), ("custody.booked", record), ("detainer.received", detainer(1))]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"kind": k, "payload": json.loads(m.model_dump_json())}) + "\n" for k, m in rows))
    assert runner.invoke(app, ["ingest", str(src)]).exit_code == 0
    res = runner.invoke(app, ["report", "build", "--out", "rep"])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert manifest["source"]["kind"] == "ledger" and manifest["source"]["tree_size"] == 3
    again = runner.invoke(app, ["report", "verify", "rep"])
    assert again.exit_code == 0 and "match their source" in again.output, again.output
