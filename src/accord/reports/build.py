"""Build a report: run every table's query, suppress, and write HTML, CSV and JSON stamped with the source."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from accord.errors import InputError

from .catalog import BY_NAME, CATALOG, MAIN_TABLE
from .html import Section
from .queries import PERIODS, SEPARATOR_FLAG, QueryParams
from .source import History, connect
from .suppress import DEFAULT_THRESHOLD
from .table import PublishedTable, TableSpec, hidden_quantities, publish_all

MANIFEST = "manifest.json"
HTML_NAME = "report.html"
DATAPACKAGE = "datapackage.json"
FORMAT_VERSION = 2  # 2: CSVs start with their header row; provenance in datapackage.json; sections carry recipes


@dataclass
class ReportResult:
    """What ``build_report`` wrote: the HTML page, one CSV and JSON per table, and the manifest."""

    out_dir: Path
    html: Path
    manifest: Path
    tables: dict[str, PublishedTable]
    csv: dict[str, Path] = field(default_factory=dict)
    json: dict[str, Path] = field(default_factory=dict)
    stamp: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    #: tables not written because the history has no rows for them, and why
    omitted: dict[str, str] = field(default_factory=dict)
    #: the history holds no detainer, notice or record request: the page says "Nothing to report"
    empty: bool = False

    @property
    def suppression(self) -> dict[str, int]:
        return suppression_counts(self.tables)


def _check_partition(name: str, raw: pl.DataFrame, spec: TableSpec) -> None:
    """The columns that should add up to the total must: else the data has an unknown value."""
    if not (spec.total_col and spec.partition_cols) or raw.height == 0:
        return
    rest = raw.select((pl.col(spec.total_col) - pl.sum_horizontal([pl.col(c).fill_null(0) for c in spec.partition_cols])).alias("d"))
    bad = int((rest["d"] != 0).sum())
    if bad:
        field_name = {"requests": "outcome", "received": "disposition", "owed": "sent_at"}.get(spec.total_col, spec.total_col)
        raise InputError(
            f"{bad} row(s) of table {name} have a value outside {', '.join(spec.partition_cols)}",
            source=name,
            field=field_name,
        )


#: Tables that group 10 M rows by a list or by person: started first, so the light ones fill the gaps.
HEAVY_FIRST = ("nypd_14_154", "detainers_by_reason", "detainers_by_offence")


def _workers(backend: str, n_tables: int) -> int:
    """DuckDB runs two tables at once, each on its own connection: while one query is in a serial phase
    (Ibis compiling, the final merge, converting the result) the other keeps the cores busy. PySpark
    already schedules its own tasks: one table at a time."""
    return min(2, n_tables) if backend == "duckdb" else 1


def compute_tables(
    history: History, *, backend: str = "duckdb", params: QueryParams | None = None, names: Sequence[str] | None = None,
    timings: dict[str, float] | None = None, jurisdictions: list[str] | None = None, shared: bool | None = None,
) -> dict[str, pl.DataFrame]:
    """Run the catalog's queries on ``backend``; return the raw (unsuppressed) counts per table.

    On DuckDB the tables come from a few shared aggregates (``accord.reports.shared``: each grouping of
    the detainers counted once, not once per table); ``shared=False`` runs each table's own Ibis query
    (what PySpark, and a Parquet history in an older layout, always do). Both give the same tables.
    ``timings``: seconds per query. ``jurisdictions``: a list to fill with the jurisdictions the history
    holds (one more small query)."""
    params = replace(params or QueryParams(), backend=backend)
    if params.period not in PERIODS:
        raise InputError(f"unknown period '{params.period}' (expected one of {', '.join(PERIODS)})", field="period")
    specs = [s for s in CATALOG if names is None or s.name in names]
    if shared is None:
        from .shared import can_share

        shared = backend == "duckdb" and can_share(history)
    if shared:
        from . import shared as sh

        raws, seconds, where = sh.compute(history, specs, params, lambda: connect(backend), workers=_workers(backend, 2),
                                          jurisdictions=None if jurisdictions is None else _jurisdictions)
        results = {name: (raw, 0.0) for name, raw in raws.items()}
        if jurisdictions is not None and where is not None:
            jurisdictions.extend(where)
        if timings is not None:
            timings.update(seconds)
        return _finish(specs, results, None)
    local = threading.local()

    def run(spec: TableSpec) -> tuple[pl.DataFrame, float]:
        if not hasattr(local, "con"):  # one connection per worker thread: connections are not shared
            local.con = connect(backend)
            local.tables = history.open(local.con)
        started = time.perf_counter()
        raw = local.con.to_polars(spec.query(local.tables, params))
        return raw, time.perf_counter() - started

    def found() -> list[str]:
        if not hasattr(local, "con"):
            local.con = connect(backend)
            local.tables = history.open(local.con)
        return _jurisdictions(local.con, local.tables)

    order = sorted(specs, key=lambda s: s.name not in HEAVY_FIRST)
    with ThreadPoolExecutor(max_workers=max(1, _workers(backend, len(specs)))) as pool:
        futures = {s.name: pool.submit(run, s) for s in order}
        where = pool.submit(found) if jurisdictions is not None else None
        try:
            results = {name: f.result() for name, f in futures.items()}
            if where is not None:
                jurisdictions.extend(where.result())
        except BaseException:
            pool.shutdown(cancel_futures=True)  # a failed table fails the report: do not start the rest
            raise
    return _finish(specs, results, timings)


def _jurisdictions(con: Any, tables: dict[str, Any]) -> list[str]:
    """The jurisdictions any row of the history names."""
    parts = [tables[t].select("jurisdiction").distinct() for t in ("detainers", "notices", "record_requests")]
    union = parts[0].union(parts[1], distinct=True).union(parts[2], distinct=True)
    return sorted(j for j in con.to_polars(union)["jurisdiction"].to_list() if j is not None)


def _finish(specs: Sequence[TableSpec], results: dict[str, tuple[pl.DataFrame, float]],
            timings: dict[str, float] | None) -> dict[str, pl.DataFrame]:
    """Each table's raw counts as published: separator flags refused, ``post`` applied, keys sorted, partitions checked."""
    out: dict[str, pl.DataFrame] = {}
    for spec in specs:
        raw, seconds = results[spec.name]
        if timings is not None:
            timings[spec.name] = seconds
        for flag in (c for c in raw.columns if c.startswith(SEPARATOR_FLAG)):
            if raw[flag].any():
                list_col = flag.removeprefix(SEPARATOR_FLAG)
                raise InputError(f"an item of {list_col} contains the reserved separator U+001F", source=spec.name,
                                 field=list_col)
        if spec.post is not None:
            raw = spec.post(raw)
        raw = raw.select([*spec.keys, *spec.counts]).sort(list(spec.keys))
        _check_partition(spec.name, raw, spec)
        out[spec.name] = raw
    return out


def _csv_text(frame: pl.DataFrame) -> str:
    """A plain CSV: the header row first, suppressed cells empty (provenance is in datapackage.json)."""
    return frame.write_csv()


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def verify_command(stamp: dict[str, Any], out_dir: Path) -> str:
    if stamp.get("kind") == "ledger":
        return f"accord report verify {out_dir} --db <ledger URL>"
    return f"accord report verify {out_dir} --history <history directory>"


def _section_doc(sec: Section, stamp: dict[str, Any]) -> dict[str, Any]:
    return {"table": sec.name, "title": sec.title, "description": sec.description, "source": stamp,
            "columns": sec.frame.columns, "rows": sec.frame.to_dicts()}


def write_outputs(
    out_dir: Path,
    published: dict[str, PublishedTable],
    *,
    stamp: dict[str, Any],
    params: dict[str, Any],
    extra_sections: Sequence[Section] = (),
    title: str = "Accord transparency report",
    omitted: dict[str, str] | None = None,
    jurisdictions: Sequence[str] = (),
    notes: Sequence[tuple[str, int]] = (),
    empty: bool = False,
) -> ReportResult:
    """Write every table and section as CSV and JSON, ``datapackage.json``, ``manifest.json`` and the page."""
    from accord import __version__

    from .datapackage import datapackage
    from .page import render_page

    out_dir.mkdir(parents=True, exist_ok=True)
    result = ReportResult(out_dir=out_dir, html=out_dir / HTML_NAME, manifest=out_dir / MANIFEST, tables=published, stamp=stamp)
    manifest_tables: dict[str, Any] = {}
    for name, table in published.items():
        spec, frame = table.spec, table.frame
        csv_path, json_path = out_dir / f"{name}.csv", out_dir / f"{name}.json"
        _write(csv_path, _csv_text(frame))
        doc = {"table": name, "title": spec.title, "description": spec.description, "legal_basis": spec.legal_basis,
               "legal_note": spec.legal_note, "source": stamp, "threshold": table.threshold,
               "suppressed_cells": table.hidden, "suppressed_primary": table.primary, "suppressed_secondary": table.secondary,
               "columns": frame.columns, "rows": frame.to_dicts()}
        _write(json_path, json.dumps(doc, indent=1, default=str))
        result.csv[name], result.json[name] = csv_path, json_path
        manifest_tables[name] = {"csv": csv_path.name, "json": json_path.name, "rows": frame.height, "cells": table.cells,
                                 "suppressed_cells": table.hidden, "suppressed_primary": table.primary,
                                 "suppressed_secondary": table.secondary}
    for sec in extra_sections:
        csv_path, json_path = out_dir / f"{sec.name}.csv", out_dir / f"{sec.name}.json"
        _write(csv_path, _csv_text(sec.frame))
        _write(json_path, json.dumps(_section_doc(sec, stamp), indent=1, default=str))
        result.csv[sec.name], result.json[sec.name] = csv_path, json_path
        manifest_tables[sec.name] = {"csv": csv_path.name, "json": json_path.name, "rows": sec.frame.height, "extra": True,
                                     "recipe": sec.recipe}
    page = render_page(title=title, published=published, sections=list(extra_sections), stamp=stamp, params=params,
                       verify=verify_command(stamp, out_dir), version=__version__, jurisdictions=list(jurisdictions),
                       notes=list(notes), empty=empty)
    _write(result.html, page)
    _write(out_dir / DATAPACKAGE, json.dumps(datapackage(published, extra_sections, stamp=stamp, params=params, title=title),
                                             indent=1, default=str))
    manifest = {"format": FORMAT_VERSION, "accord_version": __version__, "source": stamp, "params": params,
                "html": HTML_NAME, "datapackage": DATAPACKAGE, "tables": manifest_tables, "omitted": omitted or {},
                "suppression": suppression_counts(published), "notes": [list(n) for n in notes]}
    _write(result.manifest, json.dumps(manifest, indent=1, default=str))
    return result


def suppression_counts(published: dict[str, PublishedTable]) -> dict[str, int]:
    """Cells published, and hidden as primary (small) and secondary (complements), over every table."""
    return {"cells": sum(t.cells for t in published.values()), "primary": sum(t.primary for t in published.values()),
            "secondary": sum(t.secondary for t in published.values())}


def omitted_tables(raw: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Tables of one jurisdiction's statute that the history has no rows for: not shown, and why."""
    return {name: f"not shown: the history holds no {BY_NAME[name].only_if_rows} detainers or requests, which this statute covers"
            for name, frame in raw.items() if BY_NAME[name].only_if_rows and frame.height == 0}


def build_report(
    source: History | str | Path,
    out_dir: str | Path,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    backend: str = "duckdb",
    period: str = "month",
    extra_sections: Sequence[Section] = (),
    title: str = "Accord transparency report",
) -> ReportResult:
    """Compute every table from ``source`` (a History or a Parquet history directory) and write the report.

    ``extra_sections`` (titled polars frames, optionally with a Vega-Lite chart) are shown first in the page
    and written as CSV/JSON beside the tables: the demo adds its published-vs-recomputed and what-if tables
    (``accord.reports.sections``, which ``accord report verify`` recomputes).
    """
    if threshold < 1:
        raise InputError("the suppression threshold must be at least 1", field="threshold")
    history = source if isinstance(source, History) else History.from_parquet(source)
    t0 = time.perf_counter()
    per_table: dict[str, float] = {}
    found: list[str] = []
    raw = compute_tables(history, backend=backend, params=QueryParams(period=period), timings=per_table, jurisdictions=found)
    t1 = time.perf_counter()
    omitted = omitted_tables(raw)
    raw = {k: v for k, v in raw.items() if k not in omitted}
    published = publish_all(raw, {name: BY_NAME[name] for name in raw}, threshold)
    secret = hidden_quantities(published, raw)
    if history.releases and not any(s.name == "ddp_release" for s in extra_sections):
        from .sections import release_sections  # imported public data: what the release can and cannot tell

        extra_sections = [*release_sections(history, threshold), *extra_sections]
    sections = [suppress_section(sec, threshold, secret) for sec in extra_sections]
    t2 = time.perf_counter()
    params = {"threshold": threshold, "period": period, "backend": backend}
    empty = all(raw[n].height == 0 for n in (MAIN_TABLE, "record_requests", "notices_timeliness") if n in raw)
    result = write_outputs(Path(out_dir), published, stamp=history.final_stamp(), params=params,
                           extra_sections=sections, title=title, omitted=omitted, jurisdictions=found,
                           notes=history.notes, empty=empty)
    t3 = time.perf_counter()
    result.timings = {"queries": t1 - t0, "suppression": t2 - t1, "write": t3 - t2, "total": t3 - t0,
                      **{f"table {k}": v for k, v in per_table.items()}}
    result.omitted = omitted
    result.empty = empty
    return result


def suppress_section(sec: Section, threshold: int, secret: Collection[Any] = ()) -> Section:
    """Run an extra section through the report's suppression.

    A cell counting a quantity the tables hid (``secret``: ``TableSpec.quantity`` values; the section
    says which of its cells count what, ``Section.quantities``) is hidden: printing it would undo the
    complement. A count below the threshold is hidden. A row with a hidden count has all its ``counts``
    hidden (a difference column would give it back)."""
    if sec.frame.height == 0:
        return sec
    frame = sec.frame
    gone_cells = [(r, c) for (r, c), q in sec.quantities.items() if q in set(secret) and c in frame.columns]
    for c in {c for _, c in gone_cells}:
        rows = {r for r, col in gone_cells if col == c}
        mask = pl.Series([i in rows for i in range(frame.height)], dtype=pl.Boolean)
        frame = frame.with_columns(pl.when(mask).then(None).otherwise(pl.col(c)).alias(c))
    counts = [c for c in sec.counts if c in frame.columns]
    if counts:
        gone = pl.Series([False] * frame.height)
        for c in counts:
            small = ((frame[c] > 0) & (frame[c] < threshold)).fill_null(False)
            gone = gone | small | (frame[c].is_null() & sec.frame[c].is_not_null())
        frame = frame.with_columns([pl.when(gone).then(None).otherwise(pl.col(c)).alias(c) for c in counts])
    return replace(sec, frame=frame)


__all__ = ["MAIN_TABLE", "ReportResult", "Section", "build_report", "compute_tables"]
