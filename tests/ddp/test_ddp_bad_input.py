"""Bad files: one clear line naming the file (and sheet or column) and the problem; nothing appended."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from accord.ddp.importer import import_release
from accord.ddp.layouts import LATEST
from accord.ddp.sample import as_text, release_frame, write_csv, write_parquet, write_xlsx
from accord.errors import InputError
from accord.ledger import Ledger
from helpers.ddp_release import TODAY


def _refused(sqlite_url: str, path: Path, *needles: str) -> str:
    with Ledger.open(sqlite_url) as led:
        with pytest.raises(InputError) as exc:
            import_release(path, led, today=TODAY)
        assert led.size == 0
    message = str(exc.value)
    assert "\n" not in message and "Traceback" not in message
    for needle in needles:
        assert needle in message, message
    return message


def test_unknown_suffix(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "release.json"
    path.write_text("{}")
    _refused(sqlite_url, path, ".xlsx, .csv or .parquet")


def test_missing_file(sqlite_url: str, tmp_path: Path) -> None:
    _refused(sqlite_url, tmp_path / "nope.xlsx", "no such file")


def test_a_sheet_without_a_header_row_is_named(sqlite_url: str, tmp_path: Path) -> None:
    good = release_frame(5, seed=1)
    notes = pl.DataFrame({"Notes": ["This sheet explains nothing"]})
    path = write_xlsx(tmp_path / "two.xlsx", [("Detainers", good), ("Read me", notes)])
    _refused(sqlite_url, path, "two.xlsx[Read me]", "no header row")


def test_an_empty_sheet_is_skipped(sqlite_url: str, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "empty.xlsx", [("Detainers", release_frame(5, seed=1)), ("Blank", pl.DataFrame())], title_rows=())
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY)
    assert (res.rows, res.imported, res.sheets) == (5, 5, 1)


def test_header_found_without_title_rows(sqlite_url: str, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bare.xlsx", [("Sheet1", release_frame(7, seed=2))], title_rows=())
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY)
        first = next(e for e in led.events(stream=res.stream) if e.kind == "import.ddp.detainer")
    assert res.imported == 7 and first.payload["source"] == {"row": 2, "sheet": "Sheet1", "sheet_no": 1}


def test_no_prepare_date_column(sqlite_url: str, tmp_path: Path) -> None:
    frame = release_frame(5, seed=1).rename({"Detainer Prepare Date": "Prepared"})
    frame = frame.with_columns(pl.lit("x").alias("Detainer Prepare Date (old)"))
    path = write_csv(tmp_path / "noprep.csv", frame)
    _refused(sqlite_url, path, "noprep.csv", "no header row")


def test_header_with_names_but_no_prepare_date_is_not_a_header(sqlite_url: str, tmp_path: Path) -> None:
    frame = release_frame(5, seed=1).drop("Detainer Prepare Date")
    path = write_parquet(tmp_path / "noprep.parquet", frame)
    _refused(sqlite_url, path, "noprep.parquet", "'Detainer Prepare Date'")


def test_one_field_in_two_columns(sqlite_url: str, tmp_path: Path) -> None:
    frame = as_text(release_frame(5, seed=1)).with_columns(pl.col("Detainer Criminality").alias("Detainer Prepared Criminality"))
    path = write_csv(tmp_path / "twice.csv", frame)
    _refused(sqlite_url, path, "twice.csv", "two columns hold", "Detainer Prepared Criminality")


def test_not_a_workbook(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive at all" * 10)
    _refused(sqlite_url, path, "broken.xlsx", "not a readable workbook")


def test_not_utf8_csv(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(",".join(LATEST).encode() + b"\n01/02/2024,NY,\xe9t\xe9\n")
    _refused(sqlite_url, path, "latin1.csv", "not UTF-8")


def test_not_parquet(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "fake.parquet"
    path.write_bytes(b"PAR1 no")
    _refused(sqlite_url, path, "fake.parquet", "not a readable Parquet file")


def test_a_text_too_long_is_a_rejected_row_not_a_failed_import(sqlite_url: str, tmp_path: Path) -> None:
    frame = as_text(release_frame(3, seed=1))
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("J" * 600)).otherwise(pl.col("Detainer Facility"))
                               .alias("Detainer Facility"),
                               pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("K" * 200)).otherwise(pl.col("Anonymized Identifier"))
                               .alias("Anonymized Identifier"))
    path = write_parquet(tmp_path / "long.parquet", frame)
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY, rejects_path=tmp_path / "r.csv")
    assert (res.imported, res.rejected) == (1, 2)
    text = (tmp_path / "r.csv").read_text()
    assert "Detainer Facility is longer than 500 characters" in text
    assert "Anonymized Identifier is longer than 128 characters" in text and "KKKK" not in text


def test_unwritable_rejects_path_fails_before_anything_is_appended(sqlite_url: str, tmp_path: Path) -> None:
    frame = as_text(release_frame(3, seed=1)).with_columns(pl.lit(None, pl.String).alias("Detainer Prepare Date"))
    path = write_parquet(tmp_path / "bad.parquet", frame)
    with Ledger.open(sqlite_url) as led:
        with pytest.raises(InputError, match="--rejects"):
            import_release(path, led, today=TODAY, rejects_path=tmp_path / "no-such-folder" / "r.csv")
        assert led.size == 0


def test_a_sheet_with_only_a_header_and_a_file_whose_every_row_is_rejected(sqlite_url: str, tmp_path: Path) -> None:
    frame = as_text(release_frame(4, seed=1))
    bad = frame.with_columns(pl.lit("someday").alias("Detainer Prepare Date"))
    path = write_xlsx(tmp_path / "odd.xlsx", [("Header only", frame.head(0)), ("All bad", bad)])
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY, rejects_path=tmp_path / "r.csv")
        kinds = [e.kind for e in led.events(stream=res.stream)]
    assert (res.rows, res.imported, res.rejected, res.sheets) == (4, 0, 4, 2)
    assert kinds == ["import.ddp.release"] + ["import.ddp.rejected"] * 4
    assert (tmp_path / "r.csv").read_text().count("'someday' is not a date") == 4
