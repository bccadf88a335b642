"""One import run: a release file in, one ledger stream out, in ONE transaction (or nothing).

``import_release(path, ledger)`` hashes the file (SHA-256); if its stream
(``import/ddp/<sha256 prefix>``) already holds events, the file was imported before and nothing is
read or written (``already_imported``). Otherwise it reads every sheet (:mod:`.read`), maps each
batch (:mod:`.mapping`), flags likely duplicates over the whole file (:mod:`.duplicates`), and
appends the manifest, then every row's event in file order, with ``Ledger.append_chunks``: one
transaction with bounded memory, so a failure or a kill leaves the ledger as it was. Only after
the commit is the rejects file moved into place (:mod:`.rejects`).

Memory: one sheet's cells while it is parsed, plus the mapped columns of every row (about 200 bytes
a row), which the duplicate flags need before the first event can be written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from accord.errors import InputError
from accord.ledger import BatchRef, Ledger, NewEvent
from accord.ledger.writer import gc_paused

from .duplicates import mark_duplicates
from .events import (DETAINER, REJECTED, RELEASE, ImportedDetainer, ImportedRelease, RejectedRow, SheetManifest,
                     stream_for)
from .mapping import Tally, map_batch
from .read import ColumnCounts, Sheet, file_format, read_batches
from .rejects import RejectsFile

#: Events per chunk handed to the ledger (its memory bound while writing).
CHUNK = 5_000
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
                   today: Any = None, progress: Progress | None = None, chunk: int = CHUNK) -> ImportResult:
    """Import one release file into ``led`` (see the module docstring); returns what was done.

    ``rejects_path``: where the CSV of rejected rows goes (default ``<file>.rejects.csv`` beside the
    input, written only when a row was rejected). ``today`` (a date) bounds the dates accepted.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise InputError("no such file", source=str(path))
    report = progress or (lambda phase, n, total: None)
    sha = sha256_of(path)
    stream = stream_for(sha)
    name = release or path.name
    result = ImportResult(sha, stream, name, fmt)
    if led.known_streams([stream]):
        result.already_imported = True
        result.earlier = _earlier(led, stream)
        if rejects_path is not None:
            with RejectsFile(Path(rejects_path)) as rf:
                _write_rejects_from_ledger(led, stream, rf)
                rf.commit()
            result.rejects_file = str(rejects_path)
        return result

    today = today or datetime.now(UTC).date()
    counts, tally = ColumnCounts(), Tally()
    sheets: dict[int, Sheet] = {}
    sheet_rows: dict[int, int] = {}
    mapped, rejected = [], []
    on_sheet = (lambda sheet, no, of: report("read", 1, of)) if fmt == "xlsx" else None
    for batch in read_batches(path, counts, on_sheet):
        sheets.setdefault(batch.sheet.sheet_no, batch.sheet)
        sheet_rows[batch.sheet.sheet_no] = sheet_rows.get(batch.sheet.sheet_no, 0) + batch.frame.height
        ok, bad = map_batch(batch, today, tally)
        mapped.append(ok)
        rejected.append(bad)
        report("map", batch.frame.height, None)
    if not sheets:
        raise InputError("the file holds no sheet with a header row and data", source=path.name)
    rows = pl.concat(mapped, how="vertical_relaxed") if mapped else pl.DataFrame()
    del mapped
    rows, dups = mark_duplicates(rows)
    bad_rows = pl.concat(rejected, how="vertical_relaxed").sort("sheet_no", "row").to_dicts()
    del rejected

    dates = rows.select(pl.col("prepared_on").min().alias("lo"), pl.col("prepared_on").max().alias("hi")).row(0) if rows.height else (None, None)
    manifest = ImportedRelease(
        release=name, file_name=path.name, file_format=fmt, sha256=sha, size_bytes=path.stat().st_size,
        sheets=tuple(SheetManifest(name=s.name, sheet_no=s.sheet_no, header_row=s.header_row, layout=s.columns.layout,
                                   columns=sum(1 for h in s.columns.headers if h), used=s.columns.used,
                                   ignored=s.columns.ignored, missing=s.columns.missing, rows=sheet_rows[no])
                     for no, s in sorted(sheets.items())),
        rows=tally.rows, imported=rows.height, rejected=len(bad_rows), likely_duplicates=dups.rows,
        duplicate_groups=dups.groups, prepared_from=dates[0], prepared_to=dates[1],
        unknown_values=dict(sorted(tally.unknown.items())), unknown_examples=tally.top_examples(),
        unreadable=dict(sorted(tally.unreadable.items())), filled_cells=counts.filled, redacted_cells=counts.redacted,
        notes=NOTES,
    )
    total = 1 + rows.height + len(bad_rows)
    target = Path(rejects_path) if rejects_path is not None else (path.with_name(path.name + ".rejects.csv") if bad_rows else None)
    rf = RejectsFile(target) if target is not None else None
    try:
        if rf is not None:
            rf.write(bad_rows)
        first, last = led.append_chunks(_events(manifest, rows, bad_rows, stream, chunk),
                                        on_chunk=lambda n: report("write", n, total), source=path.name)
        if rf is not None:
            rf.commit()
    finally:
        if rf is not None:
            rf.discard()
    result.rows, result.imported, result.rejected = tally.rows, rows.height, len(bad_rows)
    result.likely_duplicates, result.duplicate_groups = dups.rows, dups.groups
    result.unknown_values, result.unreadable = manifest.unknown_values, manifest.unreadable
    result.sheets, result.first_seq, result.last_seq = len(sheets), first, last
    result.rejects_file = str(target) if target is not None else None
    return result


def payload_texts(rows: pl.DataFrame) -> list[str]:
    """Each mapped row as its ``import.ddp.detainer`` JSON text, in one Polars pass.

    The mapping builds every struct with its fields in name order, so with the top-level keys sorted
    here the text parses to exactly the model's dump (a test checks every fixture row); the ledger
    still canonicalises it (RFC 8785) as it appends.
    """
    cols = {name: pl.col(name) for name in DETAINER_FIELDS if name != "source"}
    cols["source"] = pl.struct(row=pl.col("row"), sheet=pl.col("sheet"), sheet_no=pl.col("sheet_no"))
    return rows.select(pl.struct(**dict(sorted(cols.items()))).struct.json_encode()).to_series().to_list()


#: top-level payload fields
DETAINER_FIELDS = tuple(ImportedDetainer.model_fields)


def _events(manifest: ImportedRelease, rows: pl.DataFrame, bad_rows: list[dict[str, Any]], stream: str,
            chunk: int) -> Iterator[list[NewEvent]]:
    """The manifest, then every row's event in file order (rejected rows interleaved where they stood).

    The first row of each chunk is also validated by the strict model, so a mapping that ever drifted
    from the contract stops the import (nothing is committed) instead of writing bad events.
    """
    cause = BatchRef(0)
    yield [NewEvent(RELEASE, manifest, stream)]
    with gc_paused():  # tens of thousands of fresh dicts: generation scans would cost more than the work
        yield from _row_events(rows, bad_rows, stream, chunk, cause)


def _row_events(rows: pl.DataFrame, bad_rows: list[dict[str, Any]], stream: str, chunk: int,
                cause: BatchRef) -> Iterator[list[NewEvent]]:
    loads = orjson.loads
    j = 0
    keys = rows.select("sheet_no", "row")
    for start in range(0, rows.height, chunk):
        out: list[NewEvent] = []
        texts = payload_texts(rows.slice(start, chunk))
        ImportedDetainer.model_validate_json(texts[0])
        for (sheet_no, row), text in zip(keys.slice(start, chunk).iter_rows(), texts):
            while j < len(bad_rows) and (bad_rows[j]["sheet_no"], bad_rows[j]["row"]) < (sheet_no, row):
                out.append(_rejected(bad_rows[j], stream, cause))
                j += 1
            out.append(NewEvent(DETAINER, loads(text), stream, cause))
        yield out
    tail = [_rejected(b, stream, cause) for b in bad_rows[j:]]
    if tail:
        yield tail


def _rejected(b: dict[str, Any], stream: str, cause: BatchRef) -> NewEvent:
    payload = RejectedRow(source={"sheet": b["sheet"], "sheet_no": b["sheet_no"], "row": b["row"]},  # type: ignore[arg-type]
                          field=b["field"], reason=b["reason"])
    return NewEvent(REJECTED, payload, stream, cause)
