"""Reading custody, detainer, release (and the other ingestable) records from JSON Lines or CSV.

Row formats (one event per row):

* **JSON Lines** (``.jsonl``/``.ndjson``): each non-blank line is
  ``{"kind": "custody.booked", "payload": {...}}`` with optional ``"stream"``
  and ``"caused_by"`` (seq of an earlier event). Kinds are those of
  ``accord.domain.events.PAYLOAD_MODELS``; the payload is that model's JSON.
* **CSV** (``.csv``): one kind per file, named with ``--kind``. A header names
  payload fields; nested fields use dotted columns (``legal_process.kind``);
  lists and sets are JSON in their cell (``charges`` = ``[{"...": ...}]``).
  Empty cells take the field's default. The stream is derived from the payload.

Validation is strict (no coercion, no unknown fields) and every rejected row is
reported as ``FILE:LINE: field 'F': problem``. A file lands whole or not at all:
all rows are validated first, then appended in ONE transaction.
"""

from __future__ import annotations

import csv
import itertools
import datetime as dt
import enum
import json
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import pydantic
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, create_model

from accord.domain.base import error_message
from accord.domain.events import PAYLOAD_MODELS
from accord.errors import InputError

from .records import NewEvent
from .streams import STREAM_OF_KIND, STREAM_PATTERN, default_stream
from .writer import gc_paused

INGESTABLE = tuple(str(k) for k in PAYLOAD_MODELS)
MAX_REPORTED_ERRORS = 50


class IngestErrors(InputError):
    """Several rows were rejected; ``errors`` lists each (line, field, problem). Nothing was written."""

    def __init__(self, source: str, errors: list[InputError], total: int) -> None:
        self.errors, self.total = errors, total
        more = f"\n... and {total - len(errors)} more" if total > len(errors) else ""
        lines = "\n".join(str(e) for e in errors)
        super().__init__(f"{total} row(s) rejected, nothing was written:\n{lines}{more}", source=None)
        self.source = source


def _row_model(kind: str, model: type[BaseModel]) -> type[BaseModel]:
    return create_model(  # type: ignore[call-overload]
        "Row_" + kind.replace(".", "_"),
        __config__=ConfigDict(strict=True, extra="forbid", frozen=True),
        kind=(Literal[kind], ...),  # type: ignore[valid-type]
        payload=(model, ...),
        stream=(str | None, None),
        caused_by=(int | None, Field(default=None, ge=1)),
    )


_ROWS = {kind: _row_model(kind, model) for kind, model in zip(INGESTABLE, PAYLOAD_MODELS.values())}
_ROW = TypeAdapter(Annotated[Union[tuple(_ROWS.values())], Field(discriminator="kind")])  # noqa: UP007


#: How many further field problems of one row are listed after the first.
MORE_PER_ROW = 9


def _first_error(exc: ValidationError, source: str, line: int, drop_tag: bool) -> InputError:
    """The row's first problem as the error's field; the row's other field problems follow in the message."""
    errors = exc.errors(include_input=False, include_url=False)
    err = errors[0]

    def field_of(e: Any) -> str | None:
        loc = list(e["loc"])[1:] if drop_tag and e["loc"] else list(e["loc"])
        return ".".join(str(p) for p in loc) or None

    field = field_of(err)
    msg = error_message(err)
    others = [f"field '{field_of(e)}': {error_message(e)}" for e in errors[1 : 1 + MORE_PER_ROW] if field_of(e)]
    if others and err["type"] not in ("union_tag_invalid", "union_tag_not_found", "json_invalid"):
        msg = "; ".join([msg, *others]) + ("; ..." if len(errors) > 1 + MORE_PER_ROW else "")
    if err["type"] == "union_tag_invalid":
        field, msg = "kind", f"unknown kind; ingestable kinds are {', '.join(INGESTABLE)}"
    elif err["type"] == "union_tag_not_found":
        field, msg = "kind", "missing; each line is {\"kind\": ..., \"payload\": {...}}"
    elif err["type"] == "json_invalid":
        field, msg = None, f"not valid JSON ({err.get('ctx', {}).get('error', 'parse error')})"
    elif not err["loc"]:
        msg = "each line must be a JSON object {\"kind\": ..., \"payload\": {...}}"
    return InputError(msg, source=source, line=line, field=field)


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _duplicate_key(raw: bytes) -> str | None:
    """The first key given twice in one object of this line (JSON parsers keep the last one silently)."""
    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        return str(dup)
    except ValueError:
        return None
    return None


def _stream_problem(row: Any) -> str | None:
    """Why an explicit ``stream`` contradicts the payload's id or the event's kind (None when it agrees)."""
    if row.stream is None:
        return None
    if STREAM_PATTERN.fullmatch(row.stream) is None:
        return "must be 1-256 letters, digits or . _ : - /"
    rule = STREAM_OF_KIND.get(row.kind)
    if rule is None:
        return None
    expected = default_stream(row.kind, row.payload)
    if row.stream == expected:
        return None
    prefix, key = rule
    if not row.stream.startswith(prefix + "/"):
        return f"'{row.stream}' is not a {prefix} stream: {row.kind} events belong to '{expected}'"
    return f"'{row.stream}' contradicts the payload's {key} '{getattr(row.payload, key)}' (its stream is '{expected}')"


def _jsonl_rows(path: Path) -> Iterator[tuple[int, NewEvent | InputError]]:
    source = path.name
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, 1):
            if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):  # a UTF-8 BOM, as CSV files accept
                raw = raw[3:]
            if not raw.strip():
                continue
            try:
                row = _ROW.validate_json(raw)
            except ValidationError as exc:
                yield line_no, _first_error(exc, source, line_no, drop_tag=True)
                continue
            dup = _duplicate_key(raw)
            if dup is not None:
                yield line_no, InputError(f"the key '{dup}' is given twice in one object; which one is meant "
                                          "is not ours to guess", source=source, line=line_no, field=dup)
                continue
            problem = _stream_problem(row)
            if problem is not None:
                yield line_no, InputError(problem, source=source, line=line_no, field="stream")
                continue
            yield line_no, NewEvent(row.kind, row.payload, row.stream, row.caused_by)


def _strip(tp: Any) -> Any:
    """The type under ``Optional``/``Annotated``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


#: pydantic's date/time marker types are not subclasses of ``datetime`` at run time.
_TEXT_MARKERS = (pydantic.AwareDatetime, pydantic.NaiveDatetime, pydantic.PastDate, pydantic.FutureDate,
                 pydantic.PastDatetime, pydantic.FutureDatetime)


def _is_text(tp: Any) -> bool:
    """Does this field take its CSV cell as a JSON string (rather than a JSON value)?"""
    tp = _strip(tp)
    if tp in _TEXT_MARKERS:
        return True
    return isinstance(tp, type) and issubclass(tp, (str, enum.Enum, dt.date, dt.datetime, dt.time))


def _column_plan(model: type[BaseModel], header: list[str], source: str) -> list[tuple[list[str], bool]]:
    plan = []
    for col in header:
        path = col.strip().split(".")
        cls: Any = model
        for i, part in enumerate(path):
            fields = cls.model_fields if isinstance(cls, type) and issubclass(cls, BaseModel) else {}
            if part not in fields:
                raise InputError("no such field in " + model.__name__, source=source, line=1, field=col)
            cls = _strip(fields[part].annotation)
        plan.append((path, _is_text(cls)))
    return plan


def _csv_rows(path: Path, kind: str) -> Iterator[tuple[int, NewEvent | InputError]]:
    line = 0
    try:
        for line, item in _csv_rows_utf8(path, kind):
            yield line, item
    except UnicodeDecodeError:
        yield line + 1, InputError("is not UTF-8 text at or after this line; save the CSV as UTF-8",
                                   source=path.name, line=line + 1)


def _csv_rows_utf8(path: Path, kind: str) -> Iterator[tuple[int, NewEvent | InputError]]:
    source = path.name
    model = PAYLOAD_MODELS[kind]  # type: ignore[index]
    adapter = TypeAdapter(model)
    with path.open(newline="", encoding="utf-8-sig") as fh:  # tolerate the BOM spreadsheets write
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            return
        plan = _column_plan(model, header, source)
        for cells in reader:
            line_no = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(plan):
                yield line_no, InputError(f"has {len(cells)} cells, the header has {len(plan)}", source=source, line=line_no)
                continue
            data: dict[str, Any] = {}
            problem = None
            for (keys, text), cell, col in zip(plan, cells, header):
                if cell == "":
                    continue
                if text:
                    value: Any = cell
                else:
                    try:
                        value = json.loads(cell)
                    except ValueError:
                        problem = InputError("is not a JSON value (numbers, true/false, lists and objects are JSON in CSV cells)",
                                             source=source, line=line_no, field=col)
                        break
                target = data
                for k in keys[:-1]:
                    target = target.setdefault(k, {})
                target[keys[-1]] = value
            if problem is not None:
                yield line_no, problem
                continue
            try:
                payload = adapter.validate_json(json.dumps(data))
            except ValidationError as exc:
                yield line_no, _first_error(exc, source, line_no, drop_tag=False)
                continue
            yield line_no, NewEvent(kind, payload)


def detect_format(path: Path, fmt: str | None) -> str:
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if fmt == "csv":
        return "csv"
    raise InputError(f"cannot tell the format of '{path.name}'; use --format jsonl or --format csv", field="format")


def rows(path: Path, fmt: str | None = None, kind: str | None = None) -> Iterator[tuple[int, NewEvent | InputError]]:
    """Each row as ``(line, NewEvent)`` or ``(line, InputError)``; never raises for a bad row."""
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    if detect_format(path, fmt) == "jsonl":
        if kind is not None:
            raise InputError("--kind is for CSV files; JSON Lines rows name their own kind", field="kind")
        return _jsonl_rows(path)
    if kind not in INGESTABLE:
        raise InputError(f"CSV needs --kind, one of {', '.join(INGESTABLE)}", field="kind")
    return _csv_rows(path, kind)


@dataclass(frozen=True)
class IngestResult:
    count: int
    first_seq: int
    last_seq: int


#: Files up to this many rows are parsed once and kept in memory between validating and
#: appending; larger files are parsed again for the append pass (bounded memory).
KEEP_IN_MEMORY_ROWS = 100_000


def validate(path: Path, fmt: str | None = None, kind: str | None = None,
             on_row: Callable[[int], None] | None = None, keep: list[NewEvent] | None = None,
             keep_limit: int = KEEP_IN_MEMORY_ROWS) -> int:
    """Check every row; returns the row count or raises :class:`IngestErrors` listing the rejected rows.

    With ``keep``, the first ``keep_limit`` valid events are collected into it.
    """
    errors: list[InputError] = []
    total_bad = count = 0
    with gc_paused():
        for _, item in rows(path, fmt, kind):
            count += 1
            if isinstance(item, InputError):
                total_bad += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(item)
            elif keep is not None and count <= keep_limit:
                keep.append(item)
            if on_row is not None:
                on_row(count)
    if total_bad:
        raise IngestErrors(path.name, errors, total_bad)
    return count


def ingest(ledger: Any, path: Path, fmt: str | None = None, kind: str | None = None, chunk_size: int = 5000,
           on_validated: Callable[[int], None] | None = None, on_appended: Callable[[int], None] | None = None) -> IngestResult:
    """Validate the whole file, then append it in one transaction (all rows or none)."""
    kept: list[NewEvent] = []
    count = validate(path, fmt, kind, on_validated, keep=kept, keep_limit=KEEP_IN_MEMORY_ROWS)

    def reparsed() -> Iterator[list[NewEvent]]:
        parsed = rows(path, fmt, kind)
        while True:
            with gc_paused():
                batch = list(itertools.islice(parsed, chunk_size))
            if not batch:
                return
            for _, item in batch:
                if isinstance(item, InputError):  # the file changed since validation
                    raise item
            yield [item for _, item in batch]  # type: ignore[misc]

    if count <= KEEP_IN_MEMORY_ROWS:
        chunks: Any = (kept[i : i + chunk_size] for i in range(0, len(kept), chunk_size))
    else:
        kept.clear()
        chunks = reparsed()
    first, last = ledger.append_chunks(chunks, on_chunk=on_appended, source=path.name)
    return IngestResult(count if first else 0, first, last)
