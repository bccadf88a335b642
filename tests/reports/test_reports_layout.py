"""History files are laid out for skipping: sorted by jurisdiction then time, row groups of 122,880 rows."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from accord.reports.layout import ROW_GROUP_ROWS, write_history_parquet
from accord.reports.sample import detainers_chunk


def test_history_file_is_sorted_in_row_groups_with_statistics(tmp_path: Path):
    frame = detainers_chunk(300_000, seed=5)
    path = tmp_path / "part-00000.parquet"
    write_history_parquet(frame, path)
    meta = pq.ParquetFile(path).metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes[:-1] == [ROW_GROUP_ROWS] * (len(sizes) - 1) and sum(sizes) == frame.height
    col = frame.columns.index("jurisdiction")
    bounds = [(meta.row_group(i).column(col).statistics.min, meta.row_group(i).column(col).statistics.max)
              for i in range(meta.num_row_groups)]
    assert all(a[1] <= b[0] for a, b in zip(bounds, bounds[1:], strict=False))  # a filter can skip groups
    # same rows, only reordered: a filtered count reads the same as on the unsorted frame
    got = duckdb.sql(f"SELECT jurisdiction, count(*), count(DISTINCT detainer_id) FROM '{path}' GROUP BY 1 ORDER BY 1").fetchall()
    want = sorted((j, n, n) for j, n in frame.group_by("jurisdiction").len().iter_rows())
    assert got == want
    written = duckdb.sql(f"SELECT jurisdiction, received_at FROM '{path}'").pl()
    assert written.equals(written.sort(["jurisdiction", "received_at"]))
