"""Canonical JSON: byte-identical to the rfc8785 reference for any JSON value, and stable for domain models."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from accord.errors import InputError
from accord.ledger.canonical import canonical_json, canonical_payload, canonical_text



def json_values_with(floats: st.SearchStrategy[float]) -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | floats | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
        max_leaves=25,
    )


json_values = json_values_with(st.floats(allow_nan=False, allow_infinity=False))
# Integral floats >= 2**53 print as integers that the reference then refuses to read back.
round_trippable = json_values_with(st.floats(min_value=-1e15, max_value=1e15))


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_matches_rfc8785_reference(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:  # e.g. lone surrogates: we must refuse too
        with pytest.raises(InputError):
            canonical_text(value)
        with pytest.raises(InputError):
            canonical_payload(value)
        return
    assert canonical_json(value) == expected
    assert canonical_payload(value).encode() == expected  # the append path's own fast path


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), round_trippable, max_size=6))
def test_parsing_canonical_output_gives_back_the_value(value: dict) -> None:
    try:
        text = canonical_text(value)
    except InputError:
        return
    back = json.loads(text)
    assert canonical_text(back) == text  # idempotent


def test_rfc8785_examples() -> None:
    """RFC 8785 §3.2.2 (numbers, escapes) and §3.2.3 (UTF-16 key order) examples."""
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    assert canonical_json(value) == (
        b'{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        b'"string":"\xe2\x82\xac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    keys = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
            "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = [k for k in json.loads(canonical_text(keys))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize("bad", [{"x": math.nan}, {"x": math.inf}, {"x": 2**60}, {1: "int key"}, {"x": object()}])
def test_values_outside_json_are_refused_with_the_field_named(bad: dict) -> None:
    with pytest.raises(InputError, match="payload"):
        canonical_json(bad)
    with pytest.raises(InputError, match="payload"):
        canonical_payload(bad)


def test_sets_in_models_have_one_byte_form_across_processes(samples) -> None:
    """frozenset iteration order follows PYTHONHASHSEED; the canonical bytes must not."""
    script = (
        "import sys; sys.path.insert(0, %r)\n"
        "import conftest\n"
        "from accord.ledger.canonical import canonical_json\n"
        "print(canonical_json(conftest.make_samples()['detainer.received']).hex())\n"
    )
    from pathlib import Path

    here = str(Path(__file__).parent)
    outs = {
        subprocess.run([sys.executable, "-c", script % here], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": str(seed), "PATH": ""}).stdout
        for seed in (1, 2, 3)
    }
    assert len(outs) == 1
    assert bytes.fromhex(outs.pop().strip()) == canonical_json(samples["detainer.received"])


class _Measured(BaseModel):
    label: str
    hours: float
    count: int
    tags: frozenset[str] = frozenset()
    nested: list[dict[str, float]] = []


class _Textual(BaseModel):
    label: str
    when: datetime
    flag: bool = False


@settings(max_examples=200, deadline=None)
@given(st.builds(_Measured, label=st.text(), hours=st.floats(allow_nan=False, allow_infinity=False),
                 count=st.integers(-(2**53) + 1, 2**53 - 1), tags=st.frozensets(st.text(max_size=3), max_size=4),
                 nested=st.lists(st.dictionaries(st.text(max_size=3), st.floats(allow_nan=False, allow_infinity=False), max_size=3), max_size=3)),
       st.builds(_Textual, label=st.text(), when=st.datetimes(timezones=st.just(UTC))))
def test_model_payloads_match_rfc8785_with_or_without_numeric_fields(measured: _Measured, textual: _Textual) -> None:
    """Models without numeric fields skip the number scan; both kinds must still equal the reference."""
    for model in (measured, textual):
        data = model.model_dump(mode="json")
        if "tags" in data:
            data["tags"] = sorted(data["tags"], key=lambda t: rfc8785.dumps(t))
        assert canonical_payload(model).encode() == rfc8785.dumps(data)


# Characters either side of every boundary where UTF-8/code-point and UTF-16 orders or escaping could differ:
# ASCII controls and DEL, Latin-1, "§" (legal citations), the line/paragraph separators, the last BMP
# character before the surrogates, U+E000-U+FFFF (sorted after astral characters in UTF-16, before them in
# code points), BOM and noncharacters, and astral characters up to U+10FFFF.
_EDGES = st.sampled_from(["a", "Z", "\x00", "\x1f", "\x7f", "\x80", "\u00a7", "\u00e9", "\u2028", "\u2029", "\u20ac",
                          "\ud7ff", "\ue000", "\uf8ff", "\ufb33", "\ufeff", "\ufffe", "\uffff", "\U00010000",
                          "\U0001f600", "\U0010ffff"])
_non_ascii_text = st.text(st.one_of(_EDGES, st.characters(codec="utf-8")), max_size=6)
_non_ascii_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | _non_ascii_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_non_ascii_text, inner, max_size=6),
    max_leaves=20,
)


@settings(max_examples=250, deadline=None)
@given(st.dictionaries(_non_ascii_text, _non_ascii_values, max_size=8))
def test_non_ascii_and_astral_keys_and_values_match_rfc8785(value: dict) -> None:
    """The fast path takes non-ASCII text; key order must still be RFC 8785's UTF-16 code-unit order."""
    expected = rfc8785.dumps(value)
    assert canonical_json(value) == expected
    assert canonical_payload(value).encode() == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["\ue000", "\uffff", "\ufb33", "\U0001f600", "\U00010000", "a", "\u00a7"]),
                min_size=2, max_size=6, unique=True))
def test_astral_keys_beside_private_use_keys_sort_by_utf16(keys: list[str]) -> None:
    value = {k: i for i, k in enumerate(keys)}
    order = list(json.loads(canonical_text(value)))
    assert order == sorted(keys, key=lambda k: k.encode("utf-16-be"))
    assert canonical_json(value) == canonical_payload(value).encode() == rfc8785.dumps(value)


@settings(max_examples=100, deadline=None)
@given(_non_ascii_text, st.characters(categories=["Cs"]), st.booleans())
def test_lone_surrogates_are_refused_like_the_reference(text: str, surrogate: str, as_key: bool) -> None:
    bad = text + surrogate
    value = {bad: 1} if as_key else {"k": [bad]}
    with pytest.raises((rfc8785.CanonicalizationError, UnicodeEncodeError)):  # a key fails in its UTF-16 sort
        rfc8785.dumps(value)
    with pytest.raises(InputError):
        canonical_json(value)
    with pytest.raises(InputError):
        canonical_payload(value)


def test_legal_citations_stay_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """'§' and other BMP text no longer cost a pure-Python rfc8785 pass (~140 µs per payload)."""
    from accord.ledger import canonical

    value = {"citation": "8 U.S.C. § 1357(g); Tex. CCP art. 2.251", "name": "José Ñúñez", "sep": "\u2028"}
    expected = rfc8785.dumps(value)
    monkeypatch.setattr(canonical.rfc8785, "dumps", lambda _v: pytest.fail("fell back to the slow path"))
    assert canonical_json(value) == canonical_payload(value).encode() == expected
