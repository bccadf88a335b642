"""Where a report's numbers come from: Parquet files, in-memory frames, or the ledger.

Every source carries a *stamp* that lets anyone check a published figure: the
ledger checkpoint (tree size, root hash, signature) it was exported at, or a
SHA-256 of the Parquet files' bytes. Tables are opened on a backend (DuckDB by
default, PySpark in local mode) as Ibis tables so the same expressions run on both.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from accord.errors import InputError

from .schema import TABLES

BACKENDS = ("duckdb", "pyspark")


def empty_frame(table: str) -> pl.DataFrame:
    return pl.DataFrame(schema=TABLES[table])


def _table_files(root: Path, table: str) -> list[Path]:
    """``ROOT/table.parquet`` or the chunks ``ROOT/table/*.parquet`` (how large histories are written)."""
    single = root / f"{table}.parquet"
    if single.is_file():
        return [single]
    folder = root / table
    if folder.is_dir():
        return sorted(folder.glob("*.parquet"))
    return []


def _check_columns(table: str, names: list[str], source: str) -> None:
    missing = [c for c in TABLES[table] if c not in names]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)} in the {table} table", source=source, field=missing[0])


def hash_files(paths: list[Path]) -> str:
    """SHA-256 over the files' names and bytes, in name order: the stamp of a Parquet history."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode() + b"\0")
        with p.open("rb") as f:
            while chunk := f.read(8 << 20):
                h.update(chunk)
    return h.hexdigest()


def hash_frames(frames: dict[str, pl.DataFrame]) -> str:
    """SHA-256 of the frames' content as JSON lines (row order included), for in-memory histories."""
    h = hashlib.sha256()
    for name in sorted(frames):
        h.update(name.encode() + b"\0")
        h.update(frames[name].write_ndjson().encode())
    return h.hexdigest()


@dataclass
class History:
    """The three history tables, as Parquet paths or polars frames, and the stamp identifying them."""

    parquet: dict[str, list[Path]] = field(default_factory=dict)
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    stamp: dict[str, Any] = field(default_factory=dict)
    #: what the source does not cover, ``(what, how many)``: shown in the report (a ledger's gaps)
    notes: list[tuple[str, int]] = field(default_factory=list)
    #: events read, for a ledger source (None otherwise)
    events: int | None = None
    #: post-release encounters, for a ledger source (None otherwise)
    encounters: pl.DataFrame | None = None
    #: manifests of the public releases imported into a ledger source (``import.ddp.release`` payloads)
    releases: list[dict[str, Any]] = field(default_factory=list)
    _hash_thread: threading.Thread | None = None
    _hash_result: list[str] = field(default_factory=list)

    @classmethod
    def from_parquet(cls, root: str | Path) -> "History":
        """Open a history directory; hashing its bytes runs in the background while queries run."""
        root = Path(root)
        if not root.is_dir():
            raise InputError("history directory not found", source=str(root))
        parquet = {t: _table_files(root, t) for t in TABLES}
        if not parquet["detainers"]:
            raise InputError("no detainers.parquet or detainers/*.parquet", source=str(root), field="detainers")
        for t, paths in parquet.items():
            if paths:
                _check_columns(t, pl.read_parquet_schema(paths[0]).names(), str(paths[0]))
        hist = cls(parquet={t: p for t, p in parquet.items() if p})
        files = [p for ps in hist.parquet.values() for p in ps]
        hist.stamp = {"kind": "parquet", "files": [str(p.relative_to(root)) for p in sorted(files)]}
        hist._hash_thread = threading.Thread(target=lambda: hist._hash_result.append(hash_files(files)), daemon=True)
        hist._hash_thread.start()
        return hist

    @classmethod
    def from_frames(cls, frames: dict[str, pl.DataFrame], stamp: dict[str, Any] | None = None,
                    notes: list[tuple[str, int]] | tuple = (), events: int | None = None,
                    encounters: pl.DataFrame | None = None, releases: list[dict[str, Any]] | None = None) -> "History":
        """In-memory history (synthetic or exported from the ledger); stamped with ``stamp`` or a content hash."""
        if "detainers" not in frames:
            raise InputError("a history needs a detainers table", field="detainers")
        for t, f in frames.items():
            if t not in TABLES:
                raise InputError(f"unknown history table '{t}' (expected one of {', '.join(TABLES)})", field=t)
            _check_columns(t, f.columns, t)
        from accord.law.facts import FACT_NAMES, FACT_SCHEMA

        def columns(t: str, f: pl.DataFrame) -> list[str]:
            # detainers keep the law's FACT columns when they have them, so what-if can re-decide the rows
            extra = [c for c in FACT_NAMES if t == "detainers" and c in f.columns and c not in TABLES[t]]
            return [*TABLES[t], *extra]

        full = {t: frames.get(t, empty_frame(t)) for t in TABLES}
        full = {t: f.select(columns(t, f)) for t, f in full.items()}
        full = {t: f.cast({**{c: FACT_SCHEMA[c] for c in f.columns if c not in TABLES[t]}, **TABLES[t]})  # type: ignore[arg-type]
                for t, f in full.items()}
        return cls(frames=full, stamp=stamp or {"kind": "frames", "sha256": hash_frames(full)}, notes=list(notes), events=events,
                   encounters=encounters, releases=list(releases or []))

    def detainers_frame(self) -> pl.LazyFrame:
        """The detainers table as a polars LazyFrame (Parquet scanned, not loaded)."""
        if "detainers" in self.parquet:
            return pl.scan_parquet(self.parquet["detainers"])
        return self.frames["detainers"].lazy()

    def is_empty(self) -> bool:
        """No detainer, notice or record request at all (an empty ledger)."""
        if self.parquet:
            return False  # a Parquet history has a detainers file; its rows are counted by the queries
        return all(f.height == 0 for f in self.frames.values())

    def final_stamp(self) -> dict[str, Any]:
        """The stamp, waiting for the background content hash of Parquet inputs if there is one."""
        if self._hash_thread is not None:
            self._hash_thread.join()
            self._hash_thread = None
            self.stamp = {**self.stamp, "sha256": self._hash_result[0]}
        return self.stamp

    def open(self, con: Any) -> dict[str, Any]:
        """Ibis tables for every history table on the connection ``con`` (DuckDB or PySpark)."""
        import ibis

        out = {}
        for t in TABLES:
            if t in self.parquet:
                paths = self.parquet[t]
                # one file, or a folder of chunks as a glob (both backends read a glob; PySpark takes no list)
                where = str(paths[0]) if len(paths) == 1 else str(paths[0].parent / "*.parquet")
                out[t] = con.read_parquet(where, table_name=f"history_{t}")
            else:
                frame = self.frames.get(t, empty_frame(t))
                out[t] = ibis.memtable(frame.to_arrow())
        return out


_SPARK: Any = None


def spark_session() -> Any:
    """One local PySpark session per process (UTC, no UI, few shuffle partitions: small data)."""
    global _SPARK
    if _SPARK is None:
        from pyspark.sql import SparkSession

        _SPARK = (
            SparkSession.builder.master("local[2]")
            .appName("accord-report")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.memory", "2g")
            .getOrCreate()
        )
        _SPARK.sparkContext.setLogLevel("ERROR")
    return _SPARK


#: DuckDB memory per connection: past it, large groupings (the per-person count of NYC §14-154)
#: spill to a temporary directory instead of growing, so a report's peak memory does not grow with
#: the history's rows. Two connections run at once (``build._workers``).
DUCKDB_MEMORY_LIMIT = "256MB"


def connect(backend: str = "duckdb", threads: int | None = None) -> Any:
    """An Ibis connection; timestamps are read and grouped in UTC on every backend.

    DuckDB: bounded memory (``DUCKDB_MEMORY_LIMIT``, spilling to a temporary directory), no
    insertion order kept (aggregates need none, and it costs memory), ``threads`` if given."""
    import ibis

    if backend == "duckdb":
        import tempfile

        con = ibis.duckdb.connect()
        con.raw_sql("SET TimeZone = 'UTC'")
        con.raw_sql(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.raw_sql(f"SET temp_directory = '{Path(tempfile.gettempdir()) / 'accord-duckdb-spill'}'")
        con.raw_sql("SET preserve_insertion_order = false")
        if threads:
            con.raw_sql(f"SET threads = {int(threads)}")
        return con
    if backend == "pyspark":
        try:
            session = spark_session()
        except ImportError as exc:
            raise InputError("the pyspark backend needs the 'spark' extra: pip install 'accord[spark]'", field="backend") from exc
        return ibis.pyspark.connect(session)
    raise InputError(f"unknown backend '{backend}' (expected one of {', '.join(BACKENDS)})", field="backend")
