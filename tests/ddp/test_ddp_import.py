"""Importing a release as a user would check it: the counts, the rejects file, the events, the re-run.

The fixture (tests/helpers/ddp_release.py) says, row by row, what each quirk is; the expected
figures below follow from that list, not from running the importer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord.ddp.events import DETAINER, REJECTED, RELEASE, ImportedDetainer, ImportedRelease, RejectedRow, stream_for
from accord.ddp.importer import import_release
from accord.ddp.rejects import read_rejects
from accord.ledger import Ledger, canonical_json
from helpers.ddp_release import (DUPLICATE_GROUPS, N, REJECTED as REJECTED_ROWS, TODAY, expected_counts, header,
                                 source_row)

FORMATS = ("xlsx", "csv", "parquet")
LAYOUTS = ("latest", "oct_2025")


def _events(led: Ledger, stream: str):
    return list(led.events(stream=stream))


def _by_source(events) -> dict[tuple[str, int], dict]:
    out = {}
    for ev in events:
        if ev.kind in (DETAINER, REJECTED):
            p = ev.payload
            out[(p["source"]["sheet"], p["source"]["row"])] = {"kind": ev.kind, **p}
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_counts_rejects_and_events_point_back_to_their_rows(db_url: str, release_copy, releases, layout: str, fmt: str) -> None:
    path = release_copy(layout, fmt)
    want = expected_counts()
    with Ledger.open(db_url) as led:
        res = import_release(path, led, today=TODAY)
        out = res.to_json()
        assert json.loads(json.dumps(out)) == out  # the --json object is plain JSON
        assert (res.rows, res.imported, res.rejected) == (want["rows"], want["imported"], want["rejected"])
        assert (res.likely_duplicates, res.duplicate_groups) == (want["likely_duplicates"], want["duplicate_groups"])
        assert res.unknown_values == {header(layout, f): n for f, n in want["unknown"].items()}
        assert res.unreadable == {header(layout, f): n for f, n in want["unreadable"].items()}
        assert not res.already_imported and res.stream == stream_for(res.sha256)
        assert res.sheets == (2 if fmt == "xlsx" else 1)

        events = _events(led, res.stream)
        assert [e.kind for e in events].count(DETAINER) == want["imported"]
        assert [e.kind for e in events].count(REJECTED) == want["rejected"]
        assert events[0].kind == RELEASE and all(e.caused_by == events[0].seq for e in events[1:])
        assert (res.first_seq, res.last_seq) == (events[0].seq, events[-1].seq) and len(events) == 1 + N
        rows = releases[layout].rows
        by_source = _by_source(events)
        for k in range(N):  # every row's event names the sheet and row a spreadsheet shows for it
            ev = by_source[source_row(fmt, k)]
            if k in REJECTED_ROWS:
                assert ev["kind"] == REJECTED
            else:
                assert ev["kind"] == DETAINER
                assert ev["prepared_on"] == rows[header(layout, "prepare_date")][k]
        order = [(e.payload["source"]["sheet_no"], e.payload["source"]["row"]) for e in events[1:]]
        assert order == sorted(order)  # file order, rejected rows where they stood

    rejects = read_rejects(Path(res.rejects_file))
    expected = []
    for k, (field, reason) in sorted(REJECTED_ROWS.items(), key=lambda kv: source_row(fmt, kv[0])):
        sheet, row = source_row(fmt, k)
        h = header(layout, field)
        expected.append({"sheet": sheet, "row": str(row), "field": h, "reason": f"no {h}" if reason == "no" else f"{h} {reason}"})
    assert rejects == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_event_is_its_strict_model(sqlite_url: str, release_copy, fmt: str) -> None:
    """The fast path (payload text from one Polars pass) equals the slow path (the strict model's dump)."""
    path = release_copy("latest", fmt)
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY)
        for ev in led.events(stream=res.stream):
            model = {RELEASE: ImportedRelease, DETAINER: ImportedDetainer, REJECTED: RejectedRow}[ev.kind]
            parsed = model.model_validate_json(ev.payload_json)
            assert canonical_json(parsed).decode() == ev.payload_json


def test_quirks_land_as_the_fixture_says(sqlite_url: str, release_copy) -> None:
    path = release_copy("latest", "xlsx")
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY)
        by_source = _by_source(_events(led, res.stream))
    ev = {k: by_source[source_row("xlsx", k)] for k in range(N)}
    for group in DUPLICATE_GROUPS:
        first = min(group)
        assert ev[first]["likely_duplicate"] and ev[first]["duplicate_of"] is None
        sheet, row = source_row("xlsx", first)
        for k in group - {first}:
            assert ev[k]["likely_duplicate"] and (ev[k]["duplicate_of"]["sheet"], ev[k]["duplicate_of"]["row"]) == (sheet, row)
    assert not ev[40]["likely_duplicate"] and not ev[41]["likely_duplicate"] and ev[40]["person_key"] == ev[41]["person_key"]
    assert sum(e["kind"] == DETAINER and e["likely_duplicate"] for e in ev.values()) == 5
    assert ev[50]["custodian"]["name"] is None and ev[50]["redacted_fields"] == ["facility"]
    assert ev[51]["person_key"] is None and ev[51]["redacted_fields"] == ["person_key"]
    assert ev[54]["msc"]["charge"] is None and ev[54]["msc"]["charge_code"] is not None
    assert ev[66]["msc"]["conviction_date"] is None and ev[66]["unreadable_fields"] == ["msc_conviction_date"]
    assert ev[72]["msc"]["sentence_days"] is None and ev[72]["unreadable_fields"] == ["msc_sentence_days"]
    assert ev[10]["criminality"] == {"code": None, "raw": "4 Unheard-Of Class"}
    assert ev[0]["criminality"] == {"code": "convicted", "raw": "1 Convicted Criminal"}
    assert ev[9]["detainer_type"] == {"code": "notification", "raw": "Notification"}
    assert ev[11]["detainer_type"] == {"code": None, "raw": "Mystery Type"}
    assert ev[13]["custodian"]["state"] == "ZZ" and ev[13]["custodian"]["jurisdiction"] is None
    assert ev[1]["custodian"]["jurisdiction"] == "US-CA"
    assert ev[0]["lift_reason"] == {"code": "booked_into_ice", "raw": "Booked into ICE detention"}
    assert ev[1]["lift_reason"] == {"code": "declined", "raw": "Detainer declined by LEA"}
    assert ev[2]["lift_reason"] is None and ev[3]["lift_reason"] == {"code": None, "raw": "Released by LEA"}
    assert ev[1]["msc"] is None  # pending charges: no conviction, no MSC


def test_personal_fields_are_never_read_into_events(sqlite_url: str, release_copy, releases) -> None:
    path = release_copy("latest", "xlsx")
    rows = releases["latest"].rows
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY)
        texts = [ev.payload_json for ev in led.events(stream=res.stream) if ev.kind != RELEASE]
    blob = "\n".join(texts)
    for column in ("Gender", "Citizenship Country", "Birth Country", "Birth Year"):
        for value in set(rows[column].drop_nulls().to_list()):
            assert f'"{value}"' not in blob, column
    for key in ("gender", "birth", "citizenship", "country"):
        assert f'"{key}' not in blob


def test_manifest_names_sheets_columns_and_counts(sqlite_url: str, release_copy) -> None:
    path = release_copy("latest", "xlsx")
    with Ledger.open(sqlite_url) as led:
        res = import_release(path, led, today=TODAY, release="Synthetic release, Jan 2026")
        m = ImportedRelease.model_validate_json(next(led.events(stream=res.stream)).payload_json)
    assert m.release == "Synthetic release, Jan 2026" and m.sha256 == res.sha256 and m.file_format == "xlsx"
    assert [(s.name, s.header_row, s.layout, s.columns, s.rows) for s in m.sheets] == [
        ("Detainers", 7, "latest", 65, 150), ("Detainers (2)", 4, "latest", 64, 150)]
    assert "Detainer Criminality" in m.sheets[0].used and "Gender" in m.sheets[0].ignored
    assert "Birth Date" not in m.sheets[1].ignored and m.sheets[0].missing == ()
    assert (m.rows, m.imported, m.rejected, m.likely_duplicates) == (N, 294, 6, 5)
    assert m.redacted_cells["Birth Date"] == 150  # only sheet 1 has the column; every cell is redacted
    assert m.redacted_cells["Detainer Prepare Date"] == 1 and m.redacted_cells["MSC Charge"] == 1
    assert m.unknown_examples["Detainer Type"] == {"Mystery Type": 2}
    assert m.unknown_examples["Detainer Lift Reason"] == {"Released by LEA": 74}
    assert m.prepared_from is not None and m.prepared_to is not None and m.prepared_from <= m.prepared_to
    assert any("not documented" in n for n in m.notes)


def test_oct_2025_layout_lacks_the_lift_reason_code(sqlite_url: str, release_copy) -> None:
    with Ledger.open(sqlite_url) as led:
        res = import_release(release_copy("oct_2025", "xlsx"), led, today=TODAY)
        m = ImportedRelease.model_validate_json(next(led.events(stream=res.stream)).payload_json)
    assert {s.layout for s in m.sheets} == {"oct_2025"} and all(s.columns == 65 for s in m.sheets)
    assert all(s.missing == ("lift_reason_code",) for s in m.sheets)
    assert "Detention Facility" in m.sheets[0].used and "Unique Identifier" in m.sheets[0].used


def test_reimporting_the_same_file_is_a_no_op_that_says_so(db_url: str, release_copy, tmp_path: Path) -> None:
    path = release_copy("latest", "csv")
    with Ledger.open(db_url) as led:
        first = import_release(path, led, today=TODAY, rejects_path=tmp_path / "first.csv")
        size = led.size
        again = import_release(path, led, today=TODAY, rejects_path=tmp_path / "again.csv")
        assert led.size == size
    assert again.already_imported and again.imported == 0 and again.rows == 0
    assert again.sha256 == first.sha256 and again.stream == first.stream
    assert again.earlier["first_seq"] == first.first_seq and again.earlier["last_seq"] == first.last_seq
    assert again.earlier["imported"] == first.imported == 294
    assert read_rejects(tmp_path / "again.csv") == read_rejects(tmp_path / "first.csv")  # rewritten from the ledger
    assert len(read_rejects(tmp_path / "again.csv")) == 6


def test_a_copy_under_another_name_is_the_same_release(sqlite_url: str, release_copy, tmp_path: Path) -> None:
    path = release_copy("latest", "parquet")
    other = tmp_path / "renamed.parquet"
    other.write_bytes(path.read_bytes())
    with Ledger.open(sqlite_url) as led:
        import_release(path, led, today=TODAY)
        assert import_release(other, led, today=TODAY).already_imported


def test_no_rejects_file_when_nothing_is_rejected_unless_asked(sqlite_url: str, tmp_path: Path) -> None:
    from accord.ddp.sample import release_frame, write_parquet

    clean = write_parquet(tmp_path / "clean.parquet", release_frame(40, seed=3))
    with Ledger.open(sqlite_url) as led:
        res = import_release(clean, led, today=TODAY)
    assert res.rejected == 0 and res.rejects_file is None and not list(tmp_path.glob("*.rejects.csv"))
    assert not list(tmp_path.glob(".*.tmp"))
