"""``accord demo``: a synthetic New York City year, decided, recorded, verified and reported."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from .support import SafeConsole

from accord.errors import AccordError

from .support import fail


def demo(
    out: Path = typer.Option(Path("accord-demo"), "--out", help="Directory for the store and the report."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic year."),
    db: str | None = typer.Option(None, "--db", help="Database URL (default: SQLite in --out)."),
    scale: float = typer.Option(1.0, "--scale", help="Fraction of the NYC year's volume (figures scale with it)."),
) -> None:
    """Generate a synthetic NYC year, decide it, record it in a verified ledger and report it."""
    from accord.demo import print_result, run_demo

    console = SafeConsole()
    try:
        res = run_demo(out, seed=seed, db=db, scale=scale, console=SafeConsole(stderr=True))
    except AccordError as err:
        raise fail(err) from None
    print_result(res, console)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
