"""A history carrying the list grouping keys (``schema.LIST_KEYS``) gives the same tables as one without them."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import pyarrow.parquet as pq

from accord.errors import InputError
from accord.reports.build import compute_tables
from accord.reports.layout import with_list_keys, write_history_parquet
from accord.reports.sample import sample_history
from accord.reports.schema import LIST_KEYS
from accord.reports.source import History

ODD = [["R01", "R01"], [], None, [""], ["R01", "R02"], ["R02", "R01"], ["R02"], ["R03", "", "R03"], ["", ""]]


def odd_frames() -> dict[str, pl.DataFrame]:
    """A sample history whose list columns cycle through awkward lists (duplicates, empty, null, empty items)."""
    frames = sample_history(600, seed=11)
    d = frames["detainers"]
    rules = [ODD[i % len(ODD)] for i in range(d.height)]
    cats = [None if x is None else [c.replace("R", "cat") for c in x] for x in ODD[::-1]]
    cats = [cats[i % len(cats)] for i in range(d.height)]
    d = d.with_columns(pl.Series("decision_rules", rules, dtype=pl.List(pl.String)),
                       pl.Series("offense_categories", cats, dtype=pl.List(pl.String)))
    return {**frames, "detainers": d}


def write(frames: dict[str, pl.DataFrame], root: Path, *, keys: bool) -> History:
    root.mkdir()
    for name, frame in frames.items():
        if keys:
            write_history_parquet(frame, root / f"{name}.parquet")
        else:
            frame.write_parquet(root / f"{name}.parquet")
    return History.from_parquet(root)


def test_tables_are_identical_with_and_without_the_key_columns(tmp_path: Path):
    frames = odd_frames()
    with_keys = write(frames, tmp_path / "keyed", keys=True)
    without = write(frames, tmp_path / "plain", keys=False)
    assert set(LIST_KEYS.values()) <= set(pq.read_schema(tmp_path / "keyed" / "detainers.parquet").names)
    assert not set(LIST_KEYS.values()) & set(pq.read_schema(tmp_path / "plain" / "detainers.parquet").names)
    a, b = compute_tables(with_keys), compute_tables(without)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name
    reasons = a["detainers_by_reason"]
    assert "" in reasons["rule_id"].to_list()  # an empty rule id is an item; an empty list is none


def test_the_key_splits_back_into_the_list_and_is_null_for_empty_lists():
    d = with_list_keys(odd_frames()["detainers"])
    for col, key in LIST_KEYS.items():
        back = d.select(pl.when(pl.col(key).is_not_null()).then(pl.col(key).str.split("\x1f")).alias("x"), pl.col(col))
        empty = d[col].list.len().fill_null(0) == 0
        assert back.filter(~empty)["x"].to_list() == back.filter(~empty)[col].to_list()
        assert d.filter(empty)[key].null_count() == int(empty.sum())


def test_the_key_column_is_dictionary_encoded(tmp_path: Path):
    write_history_parquet(odd_frames()["detainers"], tmp_path / "d.parquet")
    meta = pq.ParquetFile(tmp_path / "d.parquet").metadata
    names = meta.schema.names
    for key in LIST_KEYS.values():
        assert any("DICTIONARY" in e for e in meta.row_group(0).column(names.index(key)).encodings), key


def test_a_writer_refuses_an_item_holding_the_separator(tmp_path: Path):
    d = odd_frames()["detainers"].with_columns(
        pl.Series("offense_categories", [["a\x1fb"]] * 600, dtype=pl.List(pl.String)))
    with pytest.raises(InputError) as exc:
        write_history_parquet(d, tmp_path / "d.parquet")
    assert "offense_categories" in str(exc.value)
    assert not (tmp_path / "d.parquet").exists()
