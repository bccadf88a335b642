"""One import run: a release file in, one ledger stream out, in ONE transaction (or nothing).

``import_release(path, ledger)`` hashes the file (SHA-256); if its stream
(``import/ddp/<sha256 prefix>``) already holds events, the file was imported before and nothing is
read or written (``already_imported``). Otherwise it reads every sheet (:mod:`.read`), maps each
batch (:mod:`.mapping`), flags likely duplicates over the whole file (:mod:`.duplicates`), and
appends the manifest, then every row's event in file order, chunk by chunk, inside ONE
``Ledger.transaction()``: a failure or a kill leaves the ledger as it was, and the "already
imported?" question is asked again under the ledger's lock, so two runs of the same file cannot
both append. Only after the commit is the rejects file moved into place (:mod:`.rejects`).

Rows are handed to the ledger as prepared events (``LedgerTx.append_prepared``): their JSON text is
made in one Polars pass per chunk (:func:`payload_texts`), with every object's keys in order, only
whole numbers, strings and booleans, so plain printable-ASCII text is RFC 8785 canonical as it
stands; any other text (an escape, a non-ASCII character) is canonicalised again by the ledger's
own ``canonical_payload``. A property test checks the text equals the strict model's canonical
dump, and the first row of each chunk is validated by that model as the import runs. One event per
row: a file of N rows is N + 1 events (the manifest first), rejected rows included.

Writing overlaps a little: a worker thread has Polars encode the next chunk's JSON (without the
GIL) while the ledger numbers, hashes and inserts this one (:func:`prefetched`); everything that
needs the GIL stays on the caller's thread.
Rejected rows are put where they stood in the file by one binary search over the imported rows'
file order (:func:`_row_chunks`). A property test checks the whole event list (kinds, causes,
payload texts, order) against a row-by-row reference.

Memory: one sheet's cells while it is parsed, plus the mapped columns of every row (about 200 bytes
a row), which the duplicate flags need before the first event can be written; the ledger is
written in chunks of ``CHUNK`` rows, two of which exist at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import polars as pl

from accord.errors import InputError
from accord.ledger import Ledger, NewEvent, prepare
from accord.ledger.canonical import canonical_payload
from accord.ledger.writer import Prepared, gc_paused

from .duplicates import FILE_ORDER, mark_duplicates
from .events import (DETAINER, REJECTED, RELEASE, ImportedDetainer, ImportedRelease, RejectedRow, SheetManifest,
                     stream_for)
from .mapping import Tally, map_batch
from .read import Batch, ColumnCounts, Sheet, file_format, read_batches
from .rejects import RejectsFile

#: Rows per chunk: encoded in one Polars pass and handed to the ledger in one call (two chunks exist at
#: once while writing, about 15 MB).
CHUNK = 20_000
T = TypeVar("T")
#: ``progress(phase, advance, total)``: phases "read" (sheets or rows), "map" (rows), "write" (events).
Progress = Callable[[str, int, "int | None"], None]

NOTES = (
    "received: the Detainer Prepare Date (the day ICE issued/sent the detainer to the jail [D10]); the release "
    "gives no time, so reports place it at 12:00 UTC, which is that same date in every US time zone",
    "jurisdiction: US-<Facility State>; the release does not say which city or county holds the jail",
    "criminality: ICE's class when the detainer was prepared; '2 Pending Criminal Charges' and '3 Other "
    "Immigration Violator' mean no conviction ICE knew of [D10]",
    "conviction: only the most serious conviction (MSC) is in the release; any other is unknown",
    "Detainer Type and Detainer Lift Reason strings are not documented [D10, D15]: only unambiguous wording "
    "is recognised, the raw text is kept, the rest is counted as unknown",
    "not in the release, so unknown (null) for every row: judicial warrant, administrative warrant, service on "
    "the subject, release eligibility, the current arrest, status proof, registry and screening flags",
    "likely duplicates: same anonymised identifier and same prepare date, as DDP flags them [D15]; kept and marked",
)


@dataclass
class ImportResult:
    """What one run did. On a re-run of a file already imported every count is 0 and ``earlier`` says
    what the first import recorded."""

    sha256: str
    stream: str
    release: str
    file_format: str
    already_imported: bool = False
    rows: int = 0
    imported: int = 0
    rejected: int = 0
    likely_duplicates: int = 0
    duplicate_groups: int = 0
    unknown_values: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)
    sheets: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    rejects_file: str | None = None
    earlier: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _earlier(led: Ledger, stream: str) -> dict[str, Any]:
    for ev in led.events(stream=stream, limit=1):
        m = ImportedRelease.model_validate_json(ev.payload_json)
        last = ev.seq + m.imported + m.rejected
        return {"first_seq": ev.seq, "last_seq": last, "recorded_at": ev.recorded_at.isoformat(), "release": m.release,
                "rows": m.rows, "imported": m.imported, "rejected": m.rejected, "likely_duplicates": m.likely_duplicates}
    raise AssertionError(stream)  # pragma: no cover - only called for a stream that holds events


def _write_rejects_from_ledger(led: Ledger, stream: str, rejects: RejectsFile) -> None:
    for ev in led.events(kind=REJECTED, stream=stream):
        r = RejectedRow.model_validate_json(ev.payload_json)
        rejects.write([{"sheet": r.source.sheet, "row": r.source.row, "field": r.field, "reason": r.reason}])


def import_release(path: Path | str, led: Ledger, *, release: str | None = None, rejects_path: Path | str | None = None,
                   today: date | None = None, progress: Progress | None = None, chunk: int = CHUNK) -> ImportResult:
    """Import one release file into ``led`` (see the module docstring); returns what was done.

    ``release`` names it (default: the file's name). ``rejects_path``: where the CSV of rejected rows
    goes (default ``<file>.rejects.csv`` beside the input, written only when a row was rejected).
    ``today`` bounds the dates accepted (default: today, UTC).
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    report = progress or (lambda phase, n, total: None)
    sha = sha256_of(path)
    result = ImportResult(sha, stream_for(sha), release or path.name, fmt)
    if led.known_streams([result.stream]):
        return _already_imported(led, result, rejects_path)

    read = _read(path, fmt, today or datetime.now(UTC).date(), report)
    manifest = _manifest(path, result, read)
    target = Path(rejects_path) if rejects_path is not None else (
        path.with_name(path.name + ".rejects.csv") if read.bad_rows else None)
    with RejectsFile(target) if target is not None else nullcontext() as rf:
        if rf is not None:
            rf.write(read.bad_rows)
        written = _append(led, result.stream, manifest, read, chunk, report)
        if written is None:  # another run imported the same file meanwhile
            return _already_imported(led, result, rejects_path)
        if rf is not None:
            rf.commit()
    result.first_seq, result.last_seq = written
    result.rows, result.imported, result.rejected = manifest.rows, manifest.imported, manifest.rejected
    result.likely_duplicates, result.duplicate_groups = manifest.likely_duplicates, manifest.duplicate_groups
    result.unknown_values, result.unreadable = manifest.unknown_values, manifest.unreadable
    result.sheets = len(manifest.sheets)
    result.rejects_file = str(target) if target is not None else None
    return result


def _already_imported(led: Ledger, result: ImportResult, rejects_path: Path | str | None) -> ImportResult:
    result.already_imported = True
    result.earlier = _earlier(led, result.stream)
    if rejects_path is not None:
        with RejectsFile(Path(rejects_path)) as rf:
            _write_rejects_from_ledger(led, result.stream, rf)
            rf.commit()
        result.rejects_file = str(rejects_path)
    return result


@dataclass
class _Read:
    rows: pl.DataFrame  # mapped rows of every sheet, in file order, duplicates marked
    bad_rows: list[dict[str, Any]]  # sheet, sheet_no, row, field, reason
    sheets: dict[int, Sheet]
    sheet_rows: dict[int, int]
    counts: ColumnCounts
    tally: Tally
    duplicates: Any


def _read(path: Path, fmt: str, today: date, report: Progress) -> _Read:
    counts = ColumnCounts()
    on_sheet = (lambda sheet, no, of: report("read", 1, of)) if fmt == "xlsx" else None
    read = map_batches(read_batches(path, counts, on_sheet), today, report, counts)
    if not read.sheets:
        raise InputError("the file holds no sheet with a header row and data", source=path.name)
    return read


def map_batches(batches: Iterable[Batch], today: date, report: Progress | None = None,
                counts: ColumnCounts | None = None) -> _Read:
    """Every batch of a file mapped (:func:`map_batch`), in file order, likely duplicates marked over all of them."""
    report = report or (lambda phase, n, total: None)
    tally = Tally()
    sheets: dict[int, Sheet] = {}
    sheet_rows: dict[int, int] = {}
    mapped, rejected = [], []
    for batch in batches:
        sheets.setdefault(batch.sheet.sheet_no, batch.sheet)
        sheet_rows[batch.sheet.sheet_no] = sheet_rows.get(batch.sheet.sheet_no, 0) + batch.frame.height
        ok, bad = map_batch(batch, today, tally)
        mapped.append(ok)
        rejected.append(bad)
        report("map", batch.frame.height, None)
    if not sheets:
        return _Read(pl.DataFrame(), [], sheets, sheet_rows, counts or ColumnCounts(), tally, None)
    rows, dups = mark_duplicates(pl.concat(mapped, how="vertical_relaxed"))
    bad_rows = pl.concat(rejected, how="vertical_relaxed").sort("sheet_no", "row").to_dicts()
    return _Read(rows, bad_rows, sheets, sheet_rows, counts or ColumnCounts(), tally, dups)


def _manifest(path: Path, result: ImportResult, read: _Read) -> ImportedRelease:
    rows, tally = read.rows, read.tally
    lo, hi = rows.select(pl.col("prepared_on").min().alias("lo"), pl.col("prepared_on").max().alias("hi")).row(0) if rows.height else (None, None)
    return ImportedRelease(
        release=result.release, file_name=path.name, file_format=result.file_format, sha256=result.sha256,  # type: ignore[arg-type]
        size_bytes=path.stat().st_size,
        sheets=tuple(SheetManifest(name=s.name, sheet_no=no, header_row=s.header_row, layout=s.columns.layout,  # type: ignore[arg-type]
                                   columns=sum(1 for h in s.columns.headers if h), used=s.columns.used,
                                   ignored=s.columns.ignored, missing=s.columns.missing, rows=read.sheet_rows[no])
                     for no, s in sorted(read.sheets.items())),
        rows=tally.rows, imported=rows.height, rejected=len(read.bad_rows), likely_duplicates=read.duplicates.rows,
        duplicate_groups=read.duplicates.groups, prepared_from=lo, prepared_to=hi,
        unknown_values=dict(sorted(tally.unknown.items())), unknown_examples=tally.top_examples(),
        unreadable=dict(sorted(tally.unreadable.items())), filled_cells=read.counts.filled,
        redacted_cells=read.counts.redacted, notes=NOTES,
    )


def _append(led: Ledger, stream: str, manifest: ImportedRelease, read: _Read, chunk: int,
            report: Progress) -> tuple[int, int] | None:
    """Every event of the file in one transaction; None (and nothing written) if the stream already holds events."""
    total = 1 + read.rows.height + len(read.bad_rows)
    with led.transaction() as tx:
        if next(iter(tx.events(stream=stream, limit=1)), None) is not None:
            return None
        head = tx.append_many([NewEvent(RELEASE, manifest, stream)])[0]
        report("write", 1, total)
        with gc_paused():  # tens of thousands of fresh strings and tuples: generation scans would cost more than the work
            for prepared in _row_chunks(read.rows, read.bad_rows, stream, head.seq, chunk):
                tx.append_prepared(prepared)
                report("write", len(prepared), total)
        return head.seq, tx.size


def prefetched(items: Iterator[T]) -> Iterator[T]:
    """``items``, the next one made in a worker thread while the caller works on this one.

    For work that releases the GIL (a Polars query): it then runs beside the caller's, e.g. the
    ledger's SQLite inserts. At most two items exist at once (the one handed out and the one being
    made); an error in the worker is raised here, and when the caller stops early the worker stops
    after its item.

    >>> list(prefetched(iter(range(4))))
    [0, 1, 2, 3]
    """
    end = object()
    with ThreadPoolExecutor(1, thread_name_prefix="ddp-prefetch") as pool:
        ahead = pool.submit(next, items, end)
        while (item := ahead.result()) is not end:
            ahead = pool.submit(next, items, end)
            yield item  # type: ignore[misc]


def payload_texts(rows: pl.DataFrame) -> list[str]:
    """Each mapped row as its ``import.ddp.detainer`` JSON text, in one Polars pass (every key in order).

    The mapping builds every struct with its fields in name order and only whole numbers; the
    top-level keys are sorted here (:data:`_PAYLOAD`).
    """
    return rows.select(_PAYLOAD).to_series().to_list()


#: top-level payload fields
DETAINER_FIELDS = tuple(ImportedDetainer.model_fields)


def _payload_expr() -> pl.Expr:
    cols = {name: pl.col(name) for name in DETAINER_FIELDS if name != "source"}
    cols["source"] = pl.struct(row=pl.col("row"), sheet=pl.col("sheet"), sheet_no=pl.col("sheet_no"))
    return pl.struct(**dict(sorted(cols.items()))).struct.json_encode()


#: a mapped row's JSON text, top-level keys sorted
_PAYLOAD = _payload_expr()


def canonical_text(text: str) -> str:
    """``text`` as the ledger stores it: plain printable ASCII without escapes is already canonical; anything
    else goes through the ledger's own canonicalisation.

    >>> canonical_text('{"a":"x"}'), canonical_text('{"a":"\\u00e9"}')
    ('{"a":"x"}', '{"a":"é"}')
    """
    if text.isascii() and "\\" not in text:
        return text
    return canonical_payload(orjson.loads(text))


def _file_order(frame: pl.DataFrame) -> pl.Series:
    return frame.select(FILE_ORDER).to_series()


def _row_chunks(rows: pl.DataFrame, bad_rows: list[dict[str, Any]], stream: str, cause: int,
                chunk: int) -> Iterator[list[Prepared]]:
    """Every row's prepared event in file order, rejected rows where they stood, ``chunk`` rows at a time.

    A rejected row goes before the first imported row that follows it in the file: its place among the
    imported rows is one binary search over their (sorted) file order, not a comparison per row.
    """
    at: list[int] = []
    if bad_rows:
        order = _file_order(rows) if rows.height else pl.Series([], dtype=pl.Int64)
        bad = _file_order(pl.DataFrame({"sheet_no": [b["sheet_no"] for b in bad_rows], "row": [b["row"] for b in bad_rows]}))
        at = order.search_sorted(bad, side="left").to_list()
    j = 0
    for start, encoded in zip(range(0, rows.height, chunk), prefetched(_encoded(rows, chunk))):
        texts = [canonical_text(t) for t in encoded.to_list()]
        ImportedDetainer.model_validate_json(texts[0])  # the contract, checked as the import runs
        end = start + len(texts)
        if j == len(at) or at[j] >= end:  # the common case: no rejected row among these
            yield [(DETAINER, stream, cause, t) for t in texts]
            continue
        out: list[Prepared] = []
        done = start
        while j < len(at) and at[j] < end:
            out.extend((DETAINER, stream, cause, t) for t in texts[done - start:at[j] - start])
            out.append(_rejected(bad_rows[j], stream, cause))
            done = at[j]
            j += 1
        out.extend((DETAINER, stream, cause, t) for t in texts[done - start:])
        yield out
    if j < len(bad_rows):
        yield [_rejected(b, stream, cause) for b in bad_rows[j:]]


def _encoded(rows: pl.DataFrame, chunk: int) -> Iterator[pl.Series]:
    """:func:`payload_texts` of ``chunk`` rows at a time, as Polars series (made without the GIL)."""
    for start in range(0, rows.height, chunk):
        yield rows.slice(start, chunk).select(_PAYLOAD).to_series()


def _rejected(b: dict[str, Any], stream: str, cause: int) -> Prepared:
    payload = RejectedRow.model_validate({"source": {"sheet": b["sheet"], "sheet_no": b["sheet_no"], "row": b["row"]},
                                          "field": b["field"], "reason": b["reason"]})
    return prepare([NewEvent(REJECTED, payload, stream, cause)])[0]
