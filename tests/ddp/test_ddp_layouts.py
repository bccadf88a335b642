"""Both known layouts, found by header name; category values recognised only where they cannot mislead."""

from __future__ import annotations

import pytest

from accord.ddp.layouts import FIELDS, LATEST, OCT_2025, is_header_row, layout_of, map_columns
from accord.ddp.read import is_redacted
from accord.ddp.values import (Criminality, DetainerType, LiftOutcome, criminality, detainer_type, lift_outcome,
                               msc_categories, state_code)
from accord.errors import InputError


def test_both_layouts_have_65_columns_and_every_mapped_field() -> None:
    assert len(LATEST) == len(set(LATEST)) == 65 and len(OCT_2025) == len(set(OCT_2025)) == 65
    for layout in (LATEST, OCT_2025):
        cols = map_columns(list(layout), "t")
        assert set(cols.positions) == {f.name for f in FIELDS} - ({"lift_reason_code"} if layout is OCT_2025 else set())


@pytest.mark.parametrize("layout", [LATEST, OCT_2025])
def test_columns_found_by_name_in_any_order_and_spelling(layout: tuple[str, ...]) -> None:
    shuffled = list(reversed(layout))
    messy = [f"  {h.upper()} " if i % 2 else h.replace(" ", "_").lower() for i, h in enumerate(shuffled)]
    plain, odd = map_columns(shuffled, "t"), map_columns(messy, "t")
    assert plain.positions == odd.positions
    assert shuffled[plain.positions["prepare_date"]] == "Detainer Prepare Date"
    assert plain.layout == ("latest" if layout is LATEST else "oct_2025")


def test_fy2023_file_without_birth_date_is_the_latest_layout() -> None:
    cols = [h for h in LATEST if h != "Birth Date"]
    assert len(cols) == 64 and layout_of(cols) == "latest" and map_columns(cols, "t").missing == ()


def test_mixed_spellings_are_named_mixed() -> None:
    cols = [h if h != "Anonymized Identifier" else "Unique Identifier" for h in LATEST]
    assert layout_of(cols) == "mixed"
    assert map_columns(cols, "t").positions["person_key"] == cols.index("Unique Identifier")


def test_header_row_needs_the_prepare_date_and_other_known_names() -> None:
    assert is_header_row(list(LATEST)) and is_header_row(list(OCT_2025))
    assert not is_header_row(["U.S. Immigration and Customs Enforcement", None, None])
    assert not is_header_row(["Detainer Prepare Date", "Notes"])  # a title that names the column once
    assert not is_header_row([h for h in LATEST if h != "Detainer Prepare Date"])


def test_missing_required_and_doubled_columns_are_errors() -> None:
    with pytest.raises(InputError, match="no 'Detainer Prepare Date' column"):
        map_columns([h for h in LATEST if h != "Detainer Prepare Date"], "f.xlsx[S]")
    with pytest.raises(InputError, match="two columns hold 'Detention Facility'"):
        map_columns([*LATEST, "Detention Facility"], "f.xlsx[S]")


@pytest.mark.parametrize("text", ["b(6), b(7)c", "b(6), b(7)C", "B(6), B(7)C", " b(6),b(7)c ", "(b)(6), (b)(7)(C)",
                                  "b(6)", "b(7)(c)", "(b)(6)"])
def test_redaction_markers_in_any_case(text: str) -> None:
    assert is_redacted(text)


@pytest.mark.parametrize("text", ["", "Robbery", "b6", "Dangerous Drugs (b)", "abc(6)", "b(6) Robbery"])
def test_values_that_are_not_redactions(text: str) -> None:
    assert not is_redacted(text)


def test_documented_criminality_values_and_nothing_else() -> None:
    assert criminality("1 Convicted Criminal") is Criminality.CONVICTED
    assert criminality("2 pending criminal charges") is Criminality.PENDING_CHARGES
    assert criminality("3 Other Immigration Violator ") is Criminality.OTHER_IMMIGRATION_VIOLATOR
    assert criminality("4 Convicted Criminal Alien") is None and criminality("Convicted") is None


@pytest.mark.parametrize(("text", "code"), [
    ("Hold", DetainerType.HOLD), ("Request for Detention", DetainerType.HOLD),
    ("Notification", DetainerType.NOTIFICATION), ("Notify Only", DetainerType.NOTIFICATION),
    ("Detainer", None), ("Immigration Detainer - Notice of Action", None), ("Hold and Notify", None), ("", None),
])
def test_detainer_type_only_when_the_words_name_one_request(text: str, code: DetainerType | None) -> None:
    assert detainer_type(text) is code


@pytest.mark.parametrize(("text", "code"), [
    ("Booked into ICE detention", LiftOutcome.BOOKED_INTO_ICE), ("BOOKED INTO IMMIGRATION CUSTODY", LiftOutcome.BOOKED_INTO_ICE),
    ("Detainer declined by LEA", LiftOutcome.DECLINED), ("LEA Declined", LiftOutcome.DECLINED),
    ("ICE declined custody", None), ("Released", None), ("Booked", None), ("Booked into ICE; declined", None),
])
def test_lift_reason_only_when_unambiguous(text: str, code: LiftOutcome | None) -> None:
    assert lift_outcome(text) is code


def test_states_by_code_or_name() -> None:
    assert [state_code(t) for t in ("NY", "tx", "New Mexico", "district of columbia", "PR", "ZZ", "Ontario")] == [
        "NY", "TX", "NM", "DC", "PR", None, None]


@pytest.mark.parametrize(("text", "want"), [
    ("Assault", ("assault",)), ("Aggravated Assault", ("assault",)), ("Sexual Assault", ("sex_crime",)),
    ("Driving Under Influence Drugs", ("dui",)), ("Dangerous Drugs", ("drugs",)), ("Weapon Offense", ("weapons",)),
    ("Robbery", ("robbery",)), ("Homicide", ("homicide",)), ("Larceny", ("theft",)), ("Stolen Vehicle", ("theft",)),
    ("Burglary", ()), ("Traffic Offense", ()), ("Illegal Entry", ()), ("Robbery With Weapon", ("weapons", "robbery")),
])
def test_offence_categories_from_the_msc_text(text: str, want: tuple[str, ...]) -> None:
    assert msc_categories(text) == want
