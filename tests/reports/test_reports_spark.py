"""The same Ibis expressions on DuckDB and on PySpark (local mode) give the same report, table by table."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from accord.reports.build import compute_tables
from accord.reports.catalog import BY_NAME
from accord.reports.queries import QueryParams
from accord.reports.sample import sample_history, write_sample_parquet
from accord.reports.source import History
from accord.reports.table import publish

pytest.importorskip("pyspark", reason="pyspark not installed (pip install 'accord[spark]')")
if shutil.which("java") is None:
    pytest.skip("java not found: PySpark needs a JVM", allow_module_level=True)

pytestmark = pytest.mark.spark


def _same(a: pl.DataFrame, b: pl.DataFrame) -> bool:
    keys = [c for c in a.columns if a.schema[c] == pl.String]
    b = b.select(a.columns).cast({c: a.schema[c] for c in a.columns})
    return a.sort(keys).equals(b.sort(keys))


@pytest.fixture(scope="module")
def history() -> History:
    return History.from_frames(sample_history(2500, seed=5))


def test_every_table_is_identical_on_duckdb_and_pyspark(history):
    duck = compute_tables(history, backend="duckdb", params=QueryParams(period="quarter"))
    spark = compute_tables(history, backend="pyspark", params=QueryParams(period="quarter"))
    assert duck.keys() == spark.keys()
    for name in duck:
        assert duck[name].height > 0, name
        assert _same(duck[name], spark[name]), f"{name} differs:\n{duck[name]}\n{spark[name]}"
        # and so is what gets published
        assert publish(duck[name], BY_NAME[name]).frame.equals(publish(spark[name], BY_NAME[name]).frame)


def test_parquet_history_reads_the_same_on_both(tmp_path: Path):
    list(write_sample_parquet(tmp_path, 1200, chunk=500, seed=9))
    history = History.from_parquet(tmp_path)
    names = ["detainers_by_offence"]
    duck = compute_tables(history, backend="duckdb", names=names)
    spark = compute_tables(history, backend="pyspark", names=names)
    for name in names:
        assert _same(duck[name], spark[name]), name


def test_awkward_lists_count_the_same_on_both():
    """Duplicates, empty lists, null lists and empty items: joined-string grouping agrees on both backends."""
    frames = sample_history(300, seed=4)
    lists = [["R01", "R01"], [], None, [""], ["R01", "R02"], ["R02", "R01"], ["R03", "", "R03"]]
    values = [lists[i % len(lists)] for i in range(frames["detainers"].height)]
    d = frames["detainers"].with_columns(pl.Series("decision_rules", values, dtype=pl.List(pl.String)),
                                         pl.Series("offense_categories", values[::-1], dtype=pl.List(pl.String)))
    history = History.from_frames({**frames, "detainers": d})
    names = ["detainers_by_reason", "detainers_by_offence", "ca_7284_6_c2"]
    duck = compute_tables(history, backend="duckdb", names=names)
    spark = compute_tables(history, backend="pyspark", names=names)
    for name in names:
        assert duck[name].height > 0, name
        assert _same(duck[name], spark[name]), f"{name} differs:\n{duck[name]}\n{spark[name]}"
