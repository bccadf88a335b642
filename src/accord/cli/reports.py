"""``accord report build`` and ``accord report verify``: transparency reports and their check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .support import SafeConsole

from accord.errors import AccordError, InputError

from .support import Table, fail

#: accord.reports.suppress.DEFAULT_THRESHOLD (not imported: it would load the report stack for --help)
DEFAULT_THRESHOLD = 10

report_app = typer.Typer(help="Transparency reports: build them from the ledger or a history, verify published ones.",
                         no_args_is_help=True)
err = SafeConsole(stderr=True)
out = SafeConsole()

DbOpt = Annotated[str | None, typer.Option(
    "--db", show_default=False, help="The ledger's database URL, or a SQLite file path ending in .db or .sqlite "
                                     "\\[default, without --history: $ACCORD_DATABASE_URL or sqlite:///./accord.db]")]
HistoryOpt = Annotated[Path | None, typer.Option("--history", help="Directory of history Parquet files.")]
BackendOpt = Annotated[str, typer.Option("--backend", help="duckdb (default) or pyspark (local mode).")]


def _one_source(db: str | None, history: Path | None) -> str | None:
    """The ledger's URL to read, or None to read ``history``; the default ledger when neither is given,
    as every other command that reads a ledger takes it."""
    if db is not None and history is not None:
        raise InputError("give --db URL or --history DIR, not both", field="db")
    if history is not None:
        return None
    from accord.ledger.db import resolve_url  # here, not at the top: it loads SQLAlchemy

    return resolve_url(db)


@report_app.command("build")
def build(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write report.html, CSV and JSON into.")],
    db: DbOpt = None,
    history: HistoryOpt = None,
    threshold: Annotated[int, typer.Option("--threshold", help="Hide counts from 1 to N-1.")] = DEFAULT_THRESHOLD,
    backend: BackendOpt = "duckdb",
    period: Annotated[str, typer.Option("--period", help="month, quarter or year.")] = "month",
    replay: Annotated[list[str] | None, typer.Option("--replay", help="Also decide every detainer under this law pack "
                                                     "(repeatable), counting apart those that depend on facts the data lacks.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="With --replay: also by state, facility, office or month.")] = None,
    include_duplicates: Annotated[bool, typer.Option("--include-duplicates", help="Count imported rows flagged as likely "
                                                     "duplicates each (default: once per group).")] = False,
) -> None:
    """Compute every report table, suppress small cells, and write HTML, CSV and JSON stamped with the source."""
    try:
        db = _one_source(db, history)
        from accord.reports.build import build_report
        from accord.reports.source import History

        with err.status("Computing report tables..."):
            if db is not None:
                from accord.ledger import Ledger

                from accord.reports.export import history_from_ledger

                with Ledger.open(db, create=False) as led:
                    source = history_from_ledger(led, include_duplicates=include_duplicates)
            else:
                assert history is not None
                if include_duplicates:
                    raise InputError("--include-duplicates applies to a ledger's imported rows: give --db URL", field="include_duplicates")
                source = History.from_parquet(history)
            extra = []
            if replay:
                from accord.reports.sections import replay_sections

                extra = replay_sections(source, list(replay), by=by, threshold=threshold)
            elif by is not None:
                raise InputError("--by breaks down a replay: give --replay PACK too", field="by")
            result = build_report(source, out_dir, threshold=threshold, backend=backend, period=period, extra_sections=extra)
    except AccordError as e:
        raise fail(e) from None
    table = Table(title=f"Report written to {result.out_dir}", show_lines=False)
    for col in ("Table", "Rows", "Cells", "Hidden: primary", "secondary"):
        table.add_column(col, justify="left" if col == "Table" else "right")
    for name, t in result.tables.items():
        table.add_row(name, str(t.frame.height), str(t.cells), str(t.primary), str(t.secondary))
    out.print(table)
    sup = result.suppression
    out.print(f"Suppressed: {sup['primary']} primary and {sup['secondary']} secondary of {sup['cells']} cells")
    for name, why in result.omitted.items():
        out.print(f"{name}: {why}")
    if result.empty:
        out.print("Nothing to report: the source holds no detainer, notice or record request.")
    out.print(f"HTML: {result.html}")
    stamp = result.stamp
    if stamp.get("kind") == "ledger":
        out.print(f"Source: ledger checkpoint, tree size {stamp['tree_size']}, root {stamp['root_hash']}")
    else:
        out.print(f"Source: {stamp.get('kind')} sha256 {stamp.get('sha256')}")


@report_app.command("verify")
def verify(
    report_dir: Annotated[Path, typer.Argument(help="A directory written by 'accord report build'.")],
    db: DbOpt = None,
    history: HistoryOpt = None,
    backend: BackendOpt = "duckdb",
) -> None:
    """Recompute every published table from its source and compare; exit 3 on any difference."""
    try:
        db = _one_source(db, history)
        from accord.reports.verify import ReportMismatchError, verify_report

        with err.status("Recomputing the report from its source..."):
            result = verify_report(report_dir, db_url=db, history_dir=history, backend=backend)
        for name in result.tables_checked:
            mark = "[red]differs[/red]" if name in result.mismatches else "[green]matches[/green]"
            out.print(f"{name}: {mark}" + (f" — {result.mismatches[name]}" if name in result.mismatches else ""))
        for name in result.omitted_checked:
            out.print(f"{name}: [green]not shown, and still empty[/green]")
        for name, why in result.unchecked.items():
            out.print(f"{name}: [yellow]not checked[/yellow] — {why}")
        if not result.ok:
            bad = ", ".join(result.mismatches)
            raise ReportMismatchError(f"{len(result.mismatches)} of the report's tables differ from their source: {bad}")
    except AccordError as e:
        raise fail(e) from None
    shown = len(result.tables_checked)
    tail = f"; {len(result.unchecked)} not checked (named above)" if result.unchecked else ""
    out.print(f"[green]All {shown} tables and sections the report shows match their source{tail}.[/green]")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
