"""``accord import ddp FILE``: a public ICE detainer release into the ledger (``accord.ddp``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from .support import DbOption, JsonOption, console, progress_bar, reported

import_app = typer.Typer(help="Bring public data into the ledger, each file as one verifiable stream.", no_args_is_help=True)


def _progress(bar: Any):  # -> accord.ddp.importer.Progress
    names = {"read": "reading sheets", "map": "mapping rows", "write": "writing the ledger"}
    tasks: dict[str, Any] = {}

    def report(phase: str, n: int, total: int | None) -> None:
        if phase not in tasks:
            for task in tasks.values():
                bar.update(task, visible=False)
            tasks[phase] = bar.add_task(names.get(phase, phase), total=total)
        bar.update(tasks[phase], advance=n, total=total)

    return report


@import_app.command("ddp")
def ddp(
    file: Annotated[Path, typer.Argument(help="The release: .xlsx (every sheet), .csv or .parquet.")],
    db: DbOption = None,
    rejects: Annotated[Optional[Path], typer.Option(  # noqa: UP007
        "--rejects", help="CSV of the rows that could not be mapped \\[default: FILE.rejects.csv, when there are any]",
        show_default=False)] = None,
    release: Annotated[Optional[str], typer.Option(  # noqa: UP007
        "--release", help="Name of the release, e.g. 'ICE detainers, Sep 2023 - Jul 2025' \\[default: the file name]",
        show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (the last line of stdout).")] = False,
) -> None:
    """Import an ICE detainer release as the Deportation Data Project publishes it.

    Both known header layouts (Oct 2025 and latest names, 64 or 65 columns) are read; the header row is found by its names below any title rows. Every row becomes an event pointing back to its sheet and row; rows that cannot be mapped (no readable prepare date, a date out of range) go to the rejects file; likely duplicates (same person, same prepare date) are kept and marked.

    The file lands in ONE transaction or not at all; importing the same file again (same SHA-256) changes nothing and says so.
    """  # noqa: E501 - Typer shows each paragraph as one line, wrapped to the terminal
    with reported():
        from accord.ddp.importer import import_release
        from accord.ledger import Ledger

        with Ledger.open(db, create=True) as led, progress_bar() as bar:
            result = import_release(file, led, release=release, rejects_path=rejects, progress=_progress(bar))
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
        return
    out = console()
    for line in summary(result):
        out.print(escape(line))


def summary(res: Any) -> list[str]:
    """The import's result in plain words (the same figures as ``--json``)."""
    short = res.sha256[:12]
    if res.already_imported:
        e = res.earlier
        lines = [f"already imported: this file (sha256 {short}...) is stream {res.stream}, seq {e['first_seq']}..{e['last_seq']}, "
                 f"recorded {e['recorded_at'][:19].replace('T', ' ')} UTC as {e['release']!r} "
                 f"({e['imported']} rows imported, {e['rejected']} rejected); nothing was appended"]
        if res.rejects_file:
            lines.append(f"rejected rows written again to {res.rejects_file}")
        return lines
    sheets = f"{res.sheets} sheet{'s' if res.sheets != 1 else ''}"
    lines = [f"{res.release}: {res.rows} rows read from {sheets} (sha256 {short}...)",
             f"  imported {res.imported} as stream {res.stream}, seq {res.first_seq}..{res.last_seq}"]
    if res.rejected:
        lines.append(f"  rejected {res.rejected} (sheet, row and reason in {res.rejects_file})")
    else:
        lines.append("  rejected none")
    if res.likely_duplicates:
        lines.append(f"  likely duplicates: {res.likely_duplicates} rows in {res.duplicate_groups} groups "
                     "(same person, same prepare date), kept and marked")
    if res.unknown_values:
        lines.append("  values not recognised (kept as written, counted unknown): "
                     + ", ".join(f"{col} {n}" for col, n in sorted(res.unknown_values.items(), key=lambda kv: -kv[1])))
    if res.unreadable:
        lines.append("  cells that could not be read (kept as unknown): "
                     + ", ".join(f"{col} {n}" for col, n in sorted(res.unreadable.items(), key=lambda kv: -kv[1])))
    return lines


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
