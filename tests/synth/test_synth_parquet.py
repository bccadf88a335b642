"""The chunked Parquet writer: complete, schema-true, deterministic, memory bounded by the chunk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl

from accord.law.facts import FACT_SCHEMA
from accord.reports.calendar import offset_column
from accord.reports.schema import DETAINERS, RECORD_REQUESTS
from accord.synth.parquet import write_history
from accord.synth.profile import NYC_2020


def test_history_in_chunks_has_every_row_once_with_the_contract_columns(tmp_path: Path):
    stats = write_history(tmp_path, NYC_2020, 25_000, seed=1, chunk_rows=10_000, progress=False, id_prefix="t-")
    assert stats.chunks == 3
    files = sorted((tmp_path / "detainers").glob("*.parquet"))
    assert len(files) == 3
    d = pl.scan_parquet(files)
    schema = d.collect_schema()
    for name, dtype in {**DETAINERS, **FACT_SCHEMA}.items():
        assert schema[name] == dtype, name
    got = d.select(pl.len(), pl.col("detainer_id").n_unique(), pl.col("disposition").is_null().sum()).collect().row(0)
    assert got == (25_000, 25_000, 0)
    r = pl.scan_parquet(sorted((tmp_path / "record_requests").glob("*.parquet")))
    written = dict(r.collect_schema())
    assert written.pop(offset_column("requested_at")) == pl.Int16  # the layout's local-time offset
    assert written == RECORD_REQUESTS
    assert schema[offset_column("received_at")] == pl.Int16
    assert r.select(pl.len()).collect().item() == stats.record_requests > 0


def test_same_seed_same_bytes_of_data(tmp_path: Path):
    a = write_history(tmp_path / "a", NYC_2020, 3_000, seed=5, chunk_rows=1_000, progress=False)
    b = write_history(tmp_path / "b", NYC_2020, 3_000, seed=5, chunk_rows=1_000, progress=False)
    fa = pl.read_parquet(sorted((a.out / "detainers").glob("*.parquet")))
    fb = pl.read_parquet(sorted((b.out / "detainers").glob("*.parquet")))
    assert fa.equals(fb)


_CHILD = """
import resource, sys
from pathlib import Path
from accord.synth.parquet import write_history
from accord.synth.profile import NYC_2020
write_history(Path(sys.argv[1]), NYC_2020, int(sys.argv[2]), chunk_rows=20_000, progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_kib(out: Path, rows: int) -> int:
    res = subprocess.run([sys.executable, "-c", _CHILD, str(out), str(rows)], capture_output=True, text=True, check=True)
    return int(res.stdout.strip().splitlines()[-1])


def test_memory_is_bounded_by_the_chunk_not_the_rows(tmp_path: Path):
    small = _peak_kib(tmp_path / "s", 40_000)
    large = _peak_kib(tmp_path / "l", 200_000)  # five times the rows, same chunk
    # holding every row would add ~100 MiB at 200k rows (about 520 MiB per million in memory)
    assert large < small + 40_000, (small, large)
