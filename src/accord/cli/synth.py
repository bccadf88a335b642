"""`accord synth ...` (synthetic histories, calibration) and `accord simulate` (what-if under two packs)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from .support import SafeConsole

from accord.errors import AccordError, InputError

from .support import Table, fail as _fail

synth_app = typer.Typer(help="Synthetic populations calibrated to published figures.", no_args_is_help=True)


@synth_app.command("history")
def history_cmd(
    out: Path = typer.Argument(..., help="Directory to write detainers/, record_requests/, encounters/ Parquet chunks into."),
    rows: int = typer.Option(9326, "--rows", help="Number of detainers (the NYC year has 9,326)."),
    seed: int = typer.Option(0, "--seed"),
    pack: str = typer.Option("nyc_doc", "--pack", help="Law pack that decides each detainer."),
    chunk_rows: int = typer.Option(1_000_000, "--chunk-rows", help="Rows per Parquet file (bounds memory)."),
) -> None:
    """Write a synthetic NYC-shaped history to Parquet, chunk by chunk, decided under PACK."""
    from accord.synth.parquet import write_history
    from accord.synth.profile import NYC_2020

    try:
        stats = write_history(out, NYC_2020, rows, seed=seed, pack_id=pack, chunk_rows=chunk_rows, id_prefix="nyc-")
    except AccordError as err:
        raise _fail(err) from None
    SafeConsole().print(f"Wrote {stats.rows:,} detainers, {stats.notices:,} notices, {stats.record_requests:,} record requests and {stats.encounters:,} "
                    f"encounters in {stats.chunks} chunk(s), {stats.bytes / 2**20:,.1f} MiB, to [bold]{stats.out}[/]")


@synth_app.command("check")
def check_cmd(seed: int = typer.Option(0, "--seed"), pack: str = typer.Option("nyc_doc", "--pack")) -> None:
    """Generate the NYC year, decide it under PACK and compare with the published figures (DOMAIN.md §10)."""
    from accord.synth.calibration import check, measure
    from accord.synth.profile import NYC_2020
    from accord.synth.year import decide_history, draw

    try:
        detainers, encounters = decide_history(draw(NYC_2020, seed), pack)
    except AccordError as err:
        raise _fail(err) from None
    checks = check(measure(detainers, encounters, NYC_2020.period_end, NYC_2020.encounter_window_days))
    table = Table(title=f"NYC year (seed {seed}) decided under {pack}")
    for col in ("Figure", "Accepted", "Counted", ""):
        table.add_column(col, justify="left" if col == "Figure" else "right")
    for c in checks:
        table.add_row(c.figure.label, c.figure.describe(), f"{c.value:,}", "[green]✓[/]" if c.ok else "[red]✗[/]")
    SafeConsole().print(table)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def load_history(source: str, include_duplicates: bool = False) -> Any:  # polars.LazyFrame
    """A detainers history: a ledger URL (exported), a Parquet file, or a history directory."""
    import polars as pl

    if "://" in source:
        from accord.ledger import Ledger

        from accord.reports.ledger_rows import history_from_ledger

        with Ledger.open(source, create=False) as led:
            tables, _ = history_from_ledger(led, include_duplicates=include_duplicates)
        return tables["detainers"].lazy()
    path = Path(source)
    if path.is_dir():
        files = sorted((path / "detainers").glob("*.parquet")) or sorted(path.glob("detainers.parquet")) or sorted(path.glob("*.parquet"))
    elif path.is_file():
        files = [path]
    else:
        raise InputError("no such file, directory or ledger URL", source=source, field="history")
    if not files:
        raise InputError("no Parquet files found (expected detainers/*.parquet)", source=source, field="history")
    return pl.scan_parquet(files)


def _print_replay(console: Console, r: Any) -> None:
    """What one law decides and what it cannot (accord.synth.replay), with the facts undecided rows depend on."""
    console.print(r.sentence(meanings=False))
    if r.facts.height:
        f = Table(title=f"Under {r.pack}: undecided detainers, by a fact they depend on (the data does not hold it)",
                  title_justify="left")
        for col in ("fact", "detainers", "what it is"):
            f.add_column(col, justify="right" if col == "detainers" else "left")
        from accord.synth.replay import MEANING

        for fact, n in r.facts.iter_rows():
            f.add_row(fact, f"{n:,}", MEANING.get(fact, ""))
        console.print(f)
    if r.by:
        t = Table(title=f"Under {r.pack}, by {r.by}", title_justify="left")
        for col in r.outcomes.columns:
            t.add_column(r.by if col == "group" else col, justify="left" if col == "group" else "right")
        for row in r.outcomes.iter_rows():
            t.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
        console.print(t)


def _replay_json(r: Any) -> dict[str, Any]:
    return {"pack": r.pack, "by": r.by, "missing_facts_from": r.missing_source, "summary": r.sentence(),
            "outcomes": r.outcomes.to_dicts(), "actions": r.actions.to_dicts(), "depends": r.depends.to_dicts(),
            "facts": r.facts.to_dicts()}


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")

    @app.command()
    def simulate(
        history: str = typer.Option(..., "--history", help="Ledger URL, Parquet history directory or Parquet file."),
        pack: str = typer.Option(..., "--pack", help="The law to replay the history under."),
        against: str = typer.Option(..., "--against", help="The law to compare with (e.g. the one actually in force)."),
        as_of: str | None = typer.Option(None, "--as-of", help="Decide every row under the law of this date (default: each row's received date)."),
        top: int = typer.Option(15, "--top", help="Rule combinations to list."),
        json_out: Path | None = typer.Option(None, "--json", help="Also write the tables as JSON here."),
        by: str | None = typer.Option(None, "--by", help="Also break each law's answers down by state, facility, office or month."),
        include_duplicates: bool = typer.Option(False, "--include-duplicates", help="Count imported rows flagged as likely duplicates each (default: once per group)."),
    ) -> None:
        """Replay every detainer of a history under two packs and show what would differ, and which rules drove it."""
        import polars as pl

        from accord.synth.whatif import compare

        try:
            on = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise _fail(InputError(f"'{as_of}' is not a date (YYYY-MM-DD)", field="as_of")) from None
        try:
            from accord.synth.replay import BY, replay

            if by is not None and by not in BY:
                raise InputError(f"unknown breakdown '{by}' (expected one of {', '.join(BY)})", field="by")
            frame = load_history(history, include_duplicates=include_duplicates)
            w = compare(frame, against, pack, as_of=on)
            replays = [replay(frame, p, by=by, as_of=on) for p in (against, pack)]
        except AccordError as err:
            raise _fail(err) from None
        except pl.exceptions.PolarsError as err:
            raise _fail(InputError(f"cannot read the history: {str(err).splitlines()[0]}", source=history)) from None
        console = SafeConsole()
        t = Table(title=f"What if: {w.pack_b} instead of {w.pack_a}", title_justify="left")
        for col in w.table.columns[1:]:
            t.add_column(col, justify="left" if col == "label" else "right")
        for row in w.table.iter_rows():
            t.add_row(*(f"{v:+,}" if i == len(row) - 2 else (f"{v:,}" if isinstance(v, int) else str(v)) for i, v in enumerate(row[1:])))
        console.print(t)
        d = Table(title="Which rules drove the difference", title_justify="left")
        for col in ("action", f"{w.pack_a}: rule", "outcome", f"{w.pack_b}: rule", "outcome", "detainers"):
            d.add_column(col, justify="right" if col == "detainers" else "left")
        for r in w.rule_drivers.head(top).iter_rows(named=True):
            d.add_row(r["action"], r["rule_a"] or "-", r["outcome_a"] or "-", r["rule_b"] or "-", r["outcome_b"] or "-", f"{r['detainers']:,}")
        if w.rule_drivers.height:
            console.print(d)
        else:
            console.print(f"Which rules drove the difference: none; no requested action of any detainer is decided "
                          f"differently under {w.pack_b} than under {w.pack_a}.")
        for r in replays:
            _print_replay(console, r)
        if json_out:
            json_out.write_text(json.dumps({"pack_a": w.pack_a, "pack_b": w.pack_b, "table": w.table.to_dicts(),
                                            "rule_drivers": w.rule_drivers.to_dicts(),
                                            "replay": [_replay_json(r) for r in replays]}, indent=1, default=str))
