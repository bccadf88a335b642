"""Fast path = slow path: the vectorised mapping and its JSON text agree with a row-by-row reference.

The reference below re-states the mapping's rules (mapping.py's docstring) for one row in plain
Python; Hypothesis draws batches of awkward cells (redactions in any case, dates in every form
the readers produce and impossible ones, non-ASCII and control characters, duplicate keys) and
checks that every row is rejected, or mapped, exactly as the reference says, and that each payload
text is the strict model's own canonical dump. The second half compares whole event lists: what the
importer hands the ledger (kind, stream, cause, payload text; rejected rows where they stood; the
duplicate marks across sheets and chunk boundaries) against events built row by row from the
reference's pydantic models and canonicalised by the ledger's own ``prepare``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

import orjson
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.ddp.duplicates import mark_duplicates
from accord.ddp.events import DETAINER, MAX_KEY, MAX_TEXT, REJECTED, ImportedDetainer, RejectedRow
from accord.ddp.importer import _row_chunks, canonical_text, map_batches, payload_texts
from accord.ddp.layouts import FIELDS, LATEST, map_columns
from accord.ddp.mapping import EARLIEST_DATE, EARLIEST_PREPARED, Tally, map_batch
from accord.ddp.read import ROW, Batch, Sheet, is_redacted
from accord.ddp.values import criminality, detainer_type, lift_outcome, state_code
from accord.ledger import NewEvent, canonical_json, prepare

TODAY = date(2026, 1, 1)
COLUMNS = map_columns(list(LATEST), "prop")
SHEET = Sheet("S", 1, 7, COLUMNS)
FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S",
           "%Y-%m-%dT%H:%M:%S.%f", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")

redactions = st.sampled_from(["b(6), b(7)c", "B(6), B(7)C", "(b)(6), (b)(7)(C)", "  b(6) "])
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def date_cells(draw) -> str:
    y, m, d = draw(st.integers(1850, 2150)), draw(st.integers(0, 13)), draw(st.integers(0, 32))
    pad = draw(st.booleans())
    mm, dd = (f"{m:02d}", f"{d:02d}") if pad else (str(m), str(d))
    form = draw(st.sampled_from(["iso", "us", "iso-time", "iso-frac", "us-time", "garbage"]))
    hh, mi = draw(st.integers(0, 25)), draw(st.integers(0, 61))
    return {"iso": f"{y}-{mm}-{dd}", "us": f"{mm}/{dd}/{y}", "iso-time": f"{y}-{mm}-{dd} {hh:02d}:{mi:02d}:00",
            "iso-frac": f"{y}-{mm}-{dd} 00:00:00.000000", "us-time": f"{mm}/{dd}/{y} {hh:02d}:{mi:02d}",
            "garbage": f"{mm}.{dd}.{y}x"}[form]


@st.composite
def good_dates(draw, lo: date = EARLIEST_PREPARED) -> str:
    d = draw(st.dates(lo, TODAY))
    form = draw(st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%d 00:00:00", "%-m/%-d/%Y"]))
    return d.strftime(form)


numbers = st.one_of(st.integers(-3, 3 * 10**9).map(str), st.sampled_from(["0", "1.5", "2.0", "N/A", "", "1,000", "-0"]))
keys = st.one_of(st.none(), redactions, st.sampled_from(["P1", "P2", "P3"]), st.text("AB", min_size=MAX_KEY - 1, max_size=MAX_KEY + 2))
categories = {
    "criminality": st.sampled_from(["1 Convicted Criminal", "2 Pending Criminal Charges", "3 Other Immigration Violator", "4 X"]),
    "detainer_type": st.sampled_from(["Hold", "Notification", "Detainer", "hold / notify"]),
    "lift_reason": st.sampled_from(["Booked into ICE detention", "Declined by LEA", "Released"]),
    "facility_state": st.sampled_from(["NY", "tx", "California", "ZZ"]),
}


def cell(field: str):
    kind = {f.name: f.kind for f in FIELDS}[field]
    base = {"date": date_cells(), "number": numbers}.get(kind, categories.get(field, text))
    if field == "person_key":
        return keys
    if field == "prepare_date":  # mostly good, so that most rows are mapped and checked field by field
        return st.one_of(good_dates(), good_dates(), good_dates(), good_dates(), base, st.none(), redactions)
    if kind == "date":
        base = st.one_of(good_dates(EARLIEST_DATE), base)
    if field == "facility":
        base = st.one_of(base, st.text("J", min_size=MAX_TEXT - 1, max_size=MAX_TEXT + 1))
    return st.one_of(st.none(), redactions, base)


rows_strategy = st.lists(st.fixed_dictionaries({f.name: cell(f.name) for f in FIELDS}), min_size=1, max_size=25)


# -- the reference, one row at a time ---------------------------------------------------------------
def ref_value(cell: str | None) -> str | None:
    if cell is None or is_redacted(cell):
        return None
    cell = cell.strip()
    return cell or None


def ref_date(text: str | None) -> date | None:
    if text is None:
        return None
    for f in FORMATS:
        try:
            return datetime.strptime(text, f).date()
        except ValueError:
            continue
    return None


def ref_number(text: str | None) -> int | None:
    try:
        x = float(text.replace(",", "")) if text is not None else None
    except ValueError:
        return None
    return int(x) if x is not None and x >= 0 and x == int(x) and x < 2**31 else None


def ref_reject(row: dict) -> str | None:
    prep = row["prepare_date"]
    if prep is not None and is_redacted(prep):
        return "prepare_date"
    d = ref_date(ref_value(prep))
    if d is None or not EARLIEST_PREPARED <= d <= TODAY:
        return "prepare_date"
    for n in ("msc_charge_date", "msc_conviction_date"):
        got = ref_date(ref_value(row[n]))
        if got is not None and not EARLIEST_DATE <= got <= TODAY:
            return n
    for f in FIELDS:
        v = ref_value(row[f.name])
        if f.kind == "text" and v is not None and len(v) > (MAX_KEY if f.name == "person_key" else MAX_TEXT):
            return f.name
    return None


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows_strategy)
def test_vectorised_mapping_equals_the_row_by_row_reference(rows: list[dict]) -> None:
    frame = pl.DataFrame([{ROW: i + 8, **r} for i, r in enumerate(rows)],
                         schema={ROW: pl.Int64, **{f.name: pl.String for f in FIELDS}})
    ok, bad = map_batch(Batch(SHEET, frame), TODAY, Tally())
    assert ok.height + bad.height == len(rows)
    rejected = {r["row"]: r for r in bad.iter_rows(named=True)}
    marked, _ = mark_duplicates(ok)
    texts = dict(zip(marked["row"].to_list(), payload_texts(marked))) if marked.height else {}
    header = {f.name: COLUMNS.headers[COLUMNS.positions[f.name]] for f in FIELDS}
    for i, row in enumerate(rows):
        at, fault = i + 8, ref_reject(row)
        if fault is not None:
            assert at in rejected and rejected[at]["field"] == header[fault], (row, rejected.get(at))
            continue
        assert at not in rejected, (row, rejected[at])
        model = ImportedDetainer.model_validate_json(texts[at])  # the strict model accepts the text ...
        canonical = canonical_json(model).decode()
        assert texts[at] == canonical and canonical_text(texts[at]) == canonical  # ... and is its canonical dump
        assert orjson.loads(texts[at])["source"] == {"row": at, "sheet": "S", "sheet_no": 1}
        v = {f.name: ref_value(row[f.name]) for f in FIELDS}
        assert model.prepared_on == ref_date(v["prepare_date"])
        assert model.person_key == v["person_key"] and model.custodian.name == v["facility"]
        assert model.custodian.jurisdiction == (f"US-{state_code(v['facility_state'])}" if v["facility_state"] and state_code(v["facility_state"]) else None)
        for name, fn in (("criminality", criminality), ("detainer_type", detainer_type), ("lift_reason", lift_outcome)):
            got = getattr(model, name)
            assert (got.raw, got.code) == (v[name], fn(v[name])) if v[name] else got is None
        sentences = {n: ref_number(v[n]) for n in ("msc_sentence_days", "msc_sentence_months", "msc_sentence_years")}
        if model.msc is None:
            assert all(x is None for x in sentences.values()) and v["msc_charge"] is None
        else:
            assert model.msc.sentence_days == sentences["msc_sentence_days"]
            assert model.msc.conviction_date == ref_date(v["msc_conviction_date"])
        assert set(model.redacted_fields) == {f.name for f in FIELDS if row[f.name] is not None and is_redacted(row[f.name])}
        unreadable = {n for n in ("prepare_date", "msc_charge_date", "msc_conviction_date") if v[n] and ref_date(v[n]) is None}
        unreadable |= {n for n in sentences if v[n] is not None and sentences[n] is None}
        assert set(model.unreadable_fields) == unreadable


def test_a_cell_of_only_separators_or_spaces_is_blank_as_in_the_reference() -> None:
    # Found by the property above: Polars' strip_chars() kept U+001F, Python's strip() does not.
    from accord.ddp.mapping import _value

    frame = pl.DataFrame({"f": ["\x1f", " \x1c\u3000", " Jail \x1e"], "f__red": [False, False, False]})
    assert frame.select(_value("f").alias("v"))["v"].to_list() == [ref_value(c) for c in frame["f"]] == [None, None, "Jail"]


# -- whole events: the fast path's event list equals a row-by-row reference's, event for event -------------
STREAM, CAUSE = "import/ddp/0123456789abcdef", 1
SHEETS = (Sheet("S", 1, 7, COLUMNS), Sheet("Detainers (2)", 2, 4, COLUMNS))
_SENTENCES = ("msc_sentence_days", "msc_sentence_months", "msc_sentence_years")


def ref_shown(text: str) -> str:
    return re.sub(r"[\r\n\t]+", " ", text)[:40]


def ref_rejection(row: dict, header: dict[str, str]) -> tuple[str, str] | None:
    """(column header, reason) of a row that cannot be mapped, as mapping.py's docstring states the rules."""
    prep_h, prep = header["prepare_date"], row["prepare_date"]
    if prep is not None and is_redacted(prep):
        return prep_h, f"{prep_h} is redacted"
    v = ref_value(prep)
    if v is None:
        return prep_h, f"no {prep_h}"
    d = ref_date(v)
    if d is None:
        return prep_h, f"{prep_h} '{ref_shown(v)}' is not a date"
    if not EARLIEST_PREPARED <= d <= TODAY:
        return prep_h, f"{prep_h} {d} is outside {EARLIEST_PREPARED}..{TODAY}"
    for n in ("msc_charge_date", "msc_conviction_date"):
        got = ref_date(ref_value(row[n]))
        if got is not None and not EARLIEST_DATE <= got <= TODAY:
            return header[n], f"{header[n]} {got} is outside {EARLIEST_DATE}..{TODAY}"
    for f in FIELDS:
        v, limit = ref_value(row[f.name]), MAX_KEY if f.name == "person_key" else MAX_TEXT
        if f.kind == "text" and v is not None and len(v) > limit:
            return header[f.name], f"{header[f.name]} is longer than {limit} characters"
    return None


def ref_payload(row: dict, source: dict) -> dict:
    """One mapped row as its ``import.ddp.detainer`` payload, field by field (duplicate marks added later)."""
    v = {f.name: ref_value(row[f.name]) for f in FIELDS}
    dates = {n: ref_date(v[n]) for n in ("prepare_date", "msc_charge_date", "msc_conviction_date")}
    sentences = {n: ref_number(v[n]) for n in _SENTENCES}

    def coded(name: str, fn) -> dict | None:
        if v[name] is None:
            return None
        return {"raw": v[name], "code": fn(v[name])}

    msc = {"charge": v["msc_charge"], "charge_code": v["msc_charge_code"], "charge_date": dates["msc_charge_date"],
           "conviction_date": dates["msc_conviction_date"], "sentence_days": sentences["msc_sentence_days"],
           "sentence_months": sentences["msc_sentence_months"], "sentence_years": sentences["msc_sentence_years"]}
    state = state_code(v["facility_state"]) if v["facility_state"] is not None else None
    unreadable = tuple(n for n in dates if v[n] is not None and dates[n] is None)
    unreadable += tuple(n for n in _SENTENCES if v[n] is not None and sentences[n] is None)
    return {
        "source": source, "person_key": v["person_key"], "prepared_on": dates["prepare_date"],
        "custodian": {"name": v["facility"], "code": v["facility_code"], "city": v["facility_city"],
                      "state": v["facility_state"], "jurisdiction": None if state is None else f"US-{state}"},
        "issuing_office": v["facility_aor"], "criminality": coded("criminality", criminality),
        "msc": msc if any(x is not None for x in msc.values()) else None,
        "detainer_type": coded("detainer_type", detainer_type), "lift_reason": coded("lift_reason", lift_outcome),
        "lift_reason_code": v["lift_reason_code"],
        "redacted_fields": tuple(f.name for f in FIELDS if row[f.name] is not None and is_redacted(row[f.name])),
        "unreadable_fields": unreadable,
    }


def reference_events(sheets: list[tuple[Sheet, int, list[dict]]]) -> list[tuple]:
    """The events of a file, one row at a time: (sheet, first row number, rows) in file order."""
    header = {f.name: COLUMNS.headers[COLUMNS.positions[f.name]] for f in FIELDS}
    items: list[tuple[str, dict]] = []
    for sheet, first, rows in sheets:
        for i, row in enumerate(rows):
            source = {"sheet": sheet.name, "sheet_no": sheet.sheet_no, "row": first + i}
            fault = ref_rejection(row, header)
            if fault is not None:
                items.append((REJECTED, {"source": source, "field": fault[0], "reason": fault[1]}))
            else:
                items.append((DETAINER, ref_payload(row, source)))
    groups: dict[tuple, list[dict]] = {}
    for kind, p in items:
        if kind == DETAINER and p["person_key"] is not None:
            groups.setdefault((p["person_key"], p["prepared_on"]), []).append(p)
    for kind, p in items:
        if kind == DETAINER:
            group = groups.get((p["person_key"], p["prepared_on"]), [p])
            p["likely_duplicate"] = len(group) > 1
            p["duplicate_of"] = group[0]["source"] if len(group) > 1 and group[0] is not p else None
    models = {DETAINER: ImportedDetainer, REJECTED: RejectedRow}
    return prepare([NewEvent(kind, models[kind].model_validate(p), STREAM, CAUSE) for kind, p in items])


def fast_events(sheets: list[tuple[Sheet, int, list[dict]]], chunk: int) -> list[tuple]:
    batches = [Batch(sheet, pl.DataFrame([{ROW: first + i, **r} for i, r in enumerate(rows)],
                                         schema={ROW: pl.Int64, **{f.name: pl.String for f in FIELDS}}))
               for sheet, first, rows in sheets]
    read = map_batches(batches, TODAY)
    return [p for part in _row_chunks(read.rows, read.bad_rows, STREAM, CAUSE, chunk) for p in part]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows_strategy, rows_strategy, st.integers(1, 30))
def test_fast_events_equal_the_row_by_row_reference(first: list[dict], second: list[dict], chunk: int) -> None:
    """Kinds, streams, causes and payload texts, in file order (rejected rows where they stood), over two
    sheets, with the ledger's own ``prepare`` canonicalising the reference's models."""
    sheets = [(SHEETS[0], 8, first), (SHEETS[1], 5, second)]
    assert fast_events(sheets, chunk) == reference_events(sheets)


def test_fast_events_equal_the_reference_on_a_generated_release() -> None:
    """A larger file (duplicates across sheets and rejected rows in several chunks) from the sample generator."""
    from accord.ddp.sample import as_text, release_frame
    from accord.ddp.read import _fields_frame

    frame = as_text(release_frame(3000, layout="latest", seed=11)).with_columns(
        pl.when(pl.int_range(pl.len()) % 97 == 5).then(pl.lit("13/45/2020")).otherwise(pl.col("Detainer Prepare Date"))
        .alias("Detainer Prepare Date"))
    table = _fields_frame(frame, COLUMNS, 8)
    rows = table.drop(ROW).to_dicts()
    for i in range(0, 60, 3):  # the same person and date again on the second sheet
        rows[2000 + i].update(person_key=rows[i]["person_key"], prepare_date=rows[i]["prepare_date"])
    sheets = [(SHEETS[0], 8, rows[:1700]), (SHEETS[1], 5, rows[1700:])]
    events = fast_events(sheets, 250)
    assert sum(e[0] == REJECTED for e in events) >= 30
    assert sum('"likely_duplicate":true' in e[3] for e in events) >= 10
    assert events == reference_events(sheets)
