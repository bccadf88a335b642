"""The `accord` command line: one module per command group, each only parsing and calling.

Every module here imports only Typer and the standard library at import time; what a command
needs (the ledger, the law engine, Polars, DuckDB, Cedar) is imported inside the command, so
``accord --help`` and light commands start in a blink (a test guards it).
"""

from __future__ import annotations

import typer

from . import access, clocks, demo, imports, law, ledger, registry, reports, serve, synth, tokens, users

app = typer.Typer(
    name="accord",
    help="Decide, record and report inter-agency requests under the law that governs them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Order is the order in ``--help``.
for _group in (demo, ledger, law, access, registry, tokens, users, serve, clocks, reports, synth, imports):
    _group.register(app)


@app.command()
def version() -> None:
    """Print Accord's version."""
    from accord import __version__

    typer.echo(__version__)


def main() -> None:
    app()
