"""The `accord` command line. Each capability registers its own commands (``<pkg>/commands.py``)."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="accord",
    help="Decide, record and report inter-agency requests under the law that governs them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

#: Modules exposing ``register(app: typer.Typer) -> None``; order is the order in ``--help``.
COMMAND_MODULES = (
    "accord.demo",
    "accord.ledger.commands",
    "accord.law.commands",
    "accord.access.commands",
    "accord.reports.commands",
    "accord.synth.commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # capability not built yet
                continue
            raise
        module.register(app)




@app.command()
def version() -> None:
    """Print Accord's version."""
    from accord import __version__

    typer.echo(__version__)


_register_all()


def main() -> None:
    app()
