"""What every `accord` command shares: one way to report an error, parse a date, name the store.

An ``AccordError`` is shown as one line on stderr (no traceback) and ends the command with
the error's exit code, so scripts and people see the same message.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from accord.errors import AccordError, InputError

#: Errors stay on one line so they can be grepped and logged.
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[
    Optional[str],  # noqa: UP007 - typer reads Optional
    typer.Option(
        "--db",
        help="Database URL or SQLite path \\[default: $ACCORD_DATABASE_URL or sqlite:///./accord.db]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def progress_bar():  # -> rich.progress.Progress
    """The progress bar of long commands: on stderr, gone when done, off when stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=err, transient=True, disable=not err.is_terminal)


def fail(exc: AccordError) -> typer.Exit:
    """Print ``exc`` as one line on stderr; return the Exit to raise with its code."""
    err.print(f"[bold red]error:[/] {escape(str(exc))}")
    return typer.Exit(exc.exit_code)


@contextmanager
def reported() -> Iterator[None]:
    """Print an AccordError as one message (no traceback) and exit with its code."""
    try:
        yield
    except AccordError as exc:
        raise fail(exc) from None


def parse_date(text: str | None, option: str = "--as-of") -> date | None:
    """``YYYY-MM-DD`` or None; anything else is an InputError naming the option.

    >>> parse_date("2020-02-13")
    datetime.date(2020, 2, 13)
    >>> parse_date("13/02/2020")
    Traceback (most recent call last):
    ...
    accord.errors.InputError: field '--as-of': '13/02/2020' is not a date (YYYY-MM-DD)
    """
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=option) from None
