"""What every `accord` command shares: its options, one way to report an error, parse a date, read a file.

An ``AccordError`` is shown as one line on stderr (no traceback) and ends the command with
the error's exit code, so scripts and people see the same message. Only Typer, Rich and the
standard library are imported here (commands import the rest when they run).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as _RichTable

from accord.errors import AccordError, InputError

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape_control(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def controls_escaped(text: str) -> str:
    r"""``text`` with every terminal control character written out (``\x1b``), so stored text cannot move
    the cursor, clear the screen, set the window title or reorder what is shown (bidi overrides).
    Newlines and tabs stay. Applied to everything :class:`SafeConsole` prints and every table cell.

    >>> print(controls_escaped("a\x1b]0;title\x07b"))
    a\x1b]0;title\x07b
    """
    return _CONTROL.sub(_escape_control, text)


def safe(value: object) -> str:
    r"""Stored text for human output: control characters written out and Rich markup escaped.

    >>> print(safe("[bold]x\x1b[2J"))
    \[bold]x\x1b[2J
    """
    return escape(controls_escaped(str(value)))


class SafeConsole(Console):
    """A Rich console that writes out control characters in every string it prints (markup is kept:
    it holds none). JSON goes through ``print_json``/``json.dumps``, which escape them already."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(controls_escaped(o) if isinstance(o, str) else o for o in objects), **kwargs)


#: Errors stay on one line so they can be grepped and logged.
err = SafeConsole(stderr=True, soft_wrap=True)

DbOption = Annotated[
    Optional[str],  # noqa: UP007 - typer reads Optional
    typer.Option(
        "--db",
        help="Database URL, or a SQLite file path ending in .db or .sqlite "
             "\\[default: $ACCORD_DATABASE_URL or sqlite:///./accord.db]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AsOfOption = Annotated[
    Optional[str],  # noqa: UP007
    typer.Option("--as-of", help="Apply the law in force on this date (YYYY-MM-DD) \\[default: the date of the request]",
                 show_default=False),
]


class Table(_RichTable):
    """A Rich table whose cells fold onto the next line rather than end in "…": an id a person must
    copy (a notice id, a pack id) is never cut, however narrow the terminal (``--json`` prints them
    unwrapped)."""

    def add_column(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        kwargs.setdefault("overflow", "fold")
        super().add_column(*args, **kwargs)

    def add_row(self, *cells: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().add_row(*(controls_escaped(c) if isinstance(c, str) else c for c in cells), **kwargs)


def console() -> Console:
    """Standard output, made per command so the terminal width (``COLUMNS``) is read when it runs."""
    return SafeConsole(soft_wrap=False)


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


def parse_moment(text: str | None, option: str) -> datetime:
    """An ISO 8601 date or date-time (UTC when it names no zone); None means now.

    >>> parse_moment("2020-02-13T09:00:00-05:00", "--at").isoformat()
    '2020-02-13T09:00:00-05:00'
    >>> parse_moment("2020-02-13", "--at").isoformat()
    '2020-02-13T00:00:00+00:00'
    """
    if text is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"not a date or date-time (ISO 8601): {text!r}", field=option) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def read_text(path: Path) -> str:
    """A UTF-8 text file (a leading BOM is dropped); a missing, binary or non-UTF-8 file is an InputError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", source=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", source=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("the file is UTF-16; save it as UTF-8", source=str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not a UTF-8 text file (byte {exc.start + 1} cannot be decoded)", source=str(path)) from None
    if "\x00" in text:
        raise InputError("the file holds NUL bytes: it is binary, not JSON text", source=str(path))
    return text


def validation_error(exc: Any, source: str) -> InputError:
    """The first problem of a pydantic ``ValidationError`` as one InputError naming the field."""
    from accord.domain.base import error_message

    first = exc.errors()[0]
    where = ".".join(str(x) for x in first["loc"]) or None
    more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
    return InputError(f"{error_message(first)}{more}", source=source, field=where)


def read_model(model: Any, path: Path) -> Any:
    """``model`` validated from the JSON file at ``path``; every failure is one InputError."""
    from pydantic import ValidationError

    text = read_text(path)
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        raise validation_error(exc, str(path)) from None
