"""RFC 8785 (JSON Canonicalization Scheme) bytes for event payloads.

The ``rfc8785`` package is the reference. Because it is pure Python (about 9 µs
for a small record, 140 µs with non-ASCII text) ``canonical_text`` first
serialises with ``orjson`` and sorted keys, whose output is byte-identical to
RFC 8785 unless it holds

* a non-integer or over-long number (ES6 float formatting, the 2**53 integer
  domain): found by a scan of the bytes;
* keys whose code-point order (orjson's) differs from their UTF-16 code-unit
  order (RFC 8785 §3.2.3). The two orders disagree only when an astral
  character (U+10000 and up, a surrogate pair D800-DBFF.. in UTF-16) meets a
  character in U+E000-U+FFFF at the first difference, so the fast path is kept
  when the output lacks either kind of character: no 4-byte UTF-8 sequence
  (lead byte F0-F4), or no 3-byte one with lead byte EE/EF (the only lead
  bytes of U+E000-U+FFFF; continuation bytes are 80-BF);
* a lone surrogate: orjson refuses it, and so does the reference.

Both escape only ``"``, ``\\`` and U+0000-U+001F (same short forms, lowercase
``\\u00xx``) and write every other character as raw UTF-8. Anything else goes
through ``rfc8785``. Hypothesis property tests pin the equivalence, including
non-ASCII and astral-plane keys and values.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
import typing
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, itemgetter, methodcaller
from typing import Any

import orjson
import rfc8785
import pydantic
import pydantic_core
from pydantic import BaseModel

from accord.errors import InputError

# A number token (after ``:``, ``[`` or ``,``) with a fraction/exponent or 16+ digits; a
# top-level scalar is checked apart. Matches inside strings are harmless: they only send
# the value to the slow path. (The pattern starts with a character class on purpose: an
# ``^`` alternative makes the scan ~20x slower.)
_NEEDS_REFERENCE = re.compile(rb"[:\[,]-?\d+[.eE]|[:\[,]-?\d{16}")
_OBJECT_OR_ARRAY = (ord("{"), ord("["))
_MAX_INT = 2**53 - 1
_PLAIN, _NUMBERS, _NOT_JSON = 0, 1, 2


def _key_orders_agree(out: bytes) -> bool:
    """Code-point and UTF-16 key orders agree unless the text holds both an astral character (UTF-8 lead
    byte F0-F4) and one of U+E000-U+FFFF (lead byte EE or EF). ``in`` is a memchr: far cheaper than a regex."""
    return out.isascii() or not (b"\xee" in out or b"\xef" in out) or not (
        b"\xf0" in out or b"\xf1" in out or b"\xf2" in out or b"\xf3" in out or b"\xf4" in out)


def _shape(value: Any) -> int:
    """``_PLAIN``: only strings, booleans, null and integers within +-(2**53 - 1), which the orjson fast
    path writes exactly as RFC 8785 does (no number scan needed); ``_NUMBERS``: also floats, larger
    integers or other objects (the byte scan and the reference decide, as before); ``_NOT_JSON``: a
    non-string key or a non-finite float."""
    cls = type(value)
    if cls is str or cls is bool or value is None:
        return _PLAIN
    if cls is int:
        return _PLAIN if -_MAX_INT <= value <= _MAX_INT else _NUMBERS
    worst = _PLAIN
    if cls is dict:
        for key, item in value.items():
            if type(key) is not str:
                if not isinstance(key, str):
                    return _NOT_JSON
                worst = _NUMBERS  # a str subclass as key: the general path
            shape = _shape(item)
            if shape > worst:
                if shape == _NOT_JSON:
                    return shape
                worst = shape
        return worst
    if cls is list or cls is tuple:
        for item in value:
            shape = _shape(item)
            if shape > worst:
                if shape == _NOT_JSON:
                    return shape
                worst = shape
        return worst
    if cls is float:
        return _NUMBERS if math.isfinite(value) else _NOT_JSON
    return _NUMBERS  # subclasses and other objects: the old, general path


def _shape_of(value: Any) -> int:
    try:
        return _shape(value)
    except RecursionError:  # absurdly deep nesting: the general path refuses it with an InputError
        return _NUMBERS


_SORTED = orjson.OPT_SORT_KEYS
_dumps = orjson.dumps


def pydantic_markers() -> tuple[type, ...]:
    """pydantic's date/time marker types (not subclasses of ``datetime`` at run time)."""
    return (pydantic.AwareDatetime, pydantic.NaiveDatetime, pydantic.PastDate, pydantic.FutureDate,
            pydantic.PastDatetime, pydantic.FutureDatetime)


_SAFE_LEAVES = (str, bool, type(None), dt.date, dt.datetime, dt.time, *pydantic_markers())


def _annotation_has_numbers(tp: Any) -> bool:
    """Could a value of this type dump to a JSON number (the one thing the fast path must scan for)?"""
    if tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _annotation_has_numbers(typing.get_args(tp)[0])
    if origin is typing.Literal:
        return any(isinstance(a, (int, float)) and not isinstance(a, bool) for a in typing.get_args(tp))
    if origin is not None:
        return any(_annotation_has_numbers(a) for a in typing.get_args(tp) if a is not Ellipsis)
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            return _has_numbers(tp)
        if issubclass(tp, enum.Enum):
            return not all(isinstance(m.value, str) for m in tp)
        return not issubclass(tp, _SAFE_LEAVES)
    return not isinstance(tp, (str, bool)) and tp is not None  # Literal values, forward refs: be careful


@lru_cache(maxsize=None)
def _has_numbers(cls: type[BaseModel]) -> bool:
    return any(_annotation_has_numbers(f.annotation) for f in cls.model_fields.values())


#: model class -> (holds sets, may dump numbers): the per-class facts the hot path needs, looked up once
_MODEL_PLANS: dict[type, tuple[bool, bool]] = {}


def _model_plan(cls: type[BaseModel]) -> tuple[bool, bool]:
    plan = _MODEL_PLANS[cls] = (_holds_sets(cls), _has_numbers(cls))
    return plan


def canonical_payload(payload: Any) -> str:
    """Canonical JSON text of an event payload (a pydantic model or a JSON-ready dict).

    The append hot path: for a model class seen before it is one pydantic dump,
    one ``orjson`` call and the fast-path checks of :func:`canonical_bytes`, inline;
    the number check is a walk of the value (:func:`_shape`) rather than a regex
    scan of the bytes, and is skipped for models without numeric fields.
    """
    plan = _MODEL_PLANS.get(type(payload))
    if plan is not None:
        sets, numbers = plan
        data = payload.__pydantic_serializer__.to_python(payload, mode="json")
        if sets:
            _sort_sets(payload, data)
        scan = numbers and _shape_of(data) != _PLAIN
    elif isinstance(payload, BaseModel):
        _model_plan(type(payload))
        return canonical_payload(payload)
    else:
        data, shape = payload, _shape_of(payload)
        if shape == _NOT_JSON:
            _check_json_ready(payload, "payload")  # raises, naming the field
        scan = shape != _PLAIN
    if scan:
        return canonical_bytes(data, True).decode("utf-8")
    try:
        out = _dumps(data, option=_SORTED)
    except (TypeError, ValueError, RecursionError):
        return canonical_bytes(data, True).decode("utf-8")
    if out[0] in _OBJECT_OR_ARRAY and _key_orders_agree(out):
        return out.decode("utf-8")
    return canonical_bytes(data, True).decode("utf-8")


_starts_object = methodcaller("startswith", "{")


def canonical_payloads_of(cls: type[BaseModel], payloads: Sequence[BaseModel]) -> list[str] | None:
    """:func:`canonical_payload` of each of ``payloads`` (all exactly of class ``cls``), or None to say
    "take them one by one".

    The batch form of the hot path for a model class without sets or numeric fields: one pydantic
    dump and one ``orjson`` call per payload in one comprehension (``functools.partial`` with keywords
    would cost more than it saves), or for flat models one ``orjson`` call on each ``__dict__``
    (:func:`_flat_dumps`); the fast-path checks on the whole list through C-level ``map``. Whatever the
    one-by-one path would treat specially (an object orjson refuses, text whose key orders could
    differ, a dump that is not an object) gives None.
    """
    plan = _MODEL_PLANS.get(cls) or _model_plan(cls)
    if plan != (False, False):
        return None
    flat = _FLAT_FIELDS[cls] if cls in _FLAT_FIELDS else _FLAT_FIELDS.setdefault(cls, _flat_fields(cls))
    out = _flat_dumps(payloads, flat) if flat is not None else None
    if out is None:
        try:
            dump, sort = cls.__pydantic_serializer__.to_python, _SORTED
            # decoded at once: holding tens of thousands of orjson's bytes alive costs more than the dump
            out = [_dumps(dump(p, mode="json"), option=sort).decode() for p in payloads]
        except Exception:  # noqa: BLE001 - whatever it is, the one-by-one path meets it again and decides
            return None
        if not all(map(_starts_object, out)):  # (orjson's text of a dict, the flat path's, is an object)
            return None
    if not all(map(str.isascii, out)) and not all(_key_orders_agree(text.encode()) for text in out):
        return None
    return out


#: model class -> its flat fields' allowed value types and whether they hold datetimes (None: not flat)
_FLAT_FIELDS: dict[type, dict[str, tuple[frozenset[type], bool]] | None] = {}
_FLAT_OPTIONS = _SORTED | orjson.OPT_UTC_Z
_MINUTE = dt.timedelta(minutes=1)


def _flat_fields(cls: type[BaseModel]) -> dict[str, tuple[frozenset[type], bool]] | None:
    """For a model whose JSON dump is its ``__dict__`` as orjson writes it: each field's allowed value
    types (from the core schema: text, a text enum, a boolean or a datetime, each maybe null) and
    whether it holds datetimes. None for anything else: custom serialisers, aliases, excluded or
    computed fields, extra fields allowed, nested models, numbers, collections."""
    schema = cls.__pydantic_core_schema__
    if (schema.get("type") != "model" or "serialization" in schema or schema["schema"].get("type") != "model-fields"
            or schema["schema"].get("computed_fields") or cls.model_config.get("extra") == "allow"):
        return None
    out: dict[str, tuple[frozenset[type], bool]] = {}
    for name, field in schema["schema"]["fields"].items():
        info = cls.model_fields[name]
        if info.alias or info.serialization_alias or info.exclude or "serialization" in field:
            return None
        types: set[type] = set()
        inner = field["schema"]
        while inner.get("type") in ("default", "nullable") and "serialization" not in inner:
            if inner["type"] == "nullable":
                types.add(type(None))
            inner = inner["schema"]
        kind = inner.get("type")
        if "serialization" in inner:
            return None
        if kind == "str":
            types.add(str)
        elif kind == "bool":
            types.add(bool)
        elif kind == "enum" and inner.get("sub_type") == "str":
            types.add(inner["cls"])
        elif kind == "datetime":
            types.add(dt.datetime)
        else:
            return None
        out[name] = (frozenset(types), kind == "datetime")
    return out


def _whole_minutes(zone: Any) -> bool:
    """orjson and pydantic write the same offset for no zone and for fixed whole-minute ones (pydantic's
    ``TzInfo``, which validation from JSON gives, or ``datetime.timezone``); they round a sub-minute offset
    differently, and other zone classes are left to pydantic."""
    return zone is None or (type(zone) in _FIXED_ZONES and not zone.utcoffset(None) % _MINUTE)


_FIXED_ZONES = (dt.timezone, pydantic_core.TzInfo)


def _flat_dumps(payloads: Sequence[BaseModel], fields: dict[str, tuple[frozenset[type], bool]]) -> list[str] | None:
    """Canonical text of flat models by one ``orjson`` call on each ``__dict__`` (no pydantic dump, which
    cost twice the JSON encoding), once every value is of its field's type: checked on each payload's tuple of
    value types (C-level ``map``; a list holds a handful of distinct tuples), so an instance built without validation (``model_construct``) that
    holds anything else leaves the list to pydantic. None when a check fails."""
    dicts = list(map(vars, payloads))
    if set(map(len, dicts)) != {len(fields)}:  # as many keys as fields, and each field found below: the same keys
        return None
    names = tuple(fields)
    values_of = itemgetter(*names) if len(names) > 1 else lambda d: tuple(d[name] for name in names)
    try:  # each payload's value types as one tuple: a handful of distinct tuples, each checked field by field
        shapes = set(map(tuple, map(map, repeat(type), map(values_of, dicts))))
    except KeyError:
        return None
    allowed = [types for types, _ in fields.values()]
    if not all(all(map(frozenset.__contains__, allowed, shape)) for shape in shapes):
        return None
    for name, (_, datetimes) in fields.items():
        if datetimes and not all(map(_whole_minutes, set(map(_zone, filter(None, map(itemgetter(name), dicts)))))):
            return None
    try:
        return list(map(bytes.decode, map(_dumps, dicts, repeat(None), repeat(_FLAT_OPTIONS))))
    except (TypeError, ValueError):  # e.g. a lone surrogate: the general path decides
        return None


_zone = attrgetter("tzinfo")


def to_json_ready(payload: Any) -> Any:
    """A pydantic model becomes its JSON-mode dump; a dict is taken as already JSON-ready.

    Sets (e.g. a detainer's probable-cause bases) dump in hash order, which
    changes from process to process; they are sorted so one fact has one byte form.
    """
    if isinstance(payload, BaseModel):
        data = payload.__pydantic_serializer__.to_python(payload, mode="json")
        if _holds_sets(type(payload)):
            _sort_sets(payload, data)
        return data
    if _shape_of(payload) == _NOT_JSON:
        _check_json_ready(payload, "payload")  # raises, naming the field
    return payload


def _check_json_ready(value: Any, path: str) -> None:
    """Object keys are strings and numbers finite: orjson would silently stringify (and mis-sort)
    other keys and write NaN as null."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"object key {key!r} is not a string", field=path)
            _check_json_ready(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json_ready(item, f"{path}.{i}")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{value} is not a JSON number", field=path)


def _annotation_holds_sets(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin in (set, frozenset) or tp in (set, frozenset):
        return True
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _holds_sets(tp)
    return any(_annotation_holds_sets(arg) for arg in typing.get_args(tp) if arg is not Ellipsis)


@lru_cache(maxsize=None)
def _holds_sets(cls: type[BaseModel]) -> bool:
    return any(_annotation_holds_sets(f.annotation) for f in cls.model_fields.values())


def _sort_sets(model: BaseModel, data: dict[str, Any]) -> None:
    for name in type(model).model_fields:
        value, dumped = getattr(model, name), data.get(name)
        if isinstance(value, (set, frozenset)) and isinstance(dumped, list):
            data[name] = sorted(dumped, key=canonical_text)
        elif isinstance(value, BaseModel) and isinstance(dumped, dict):
            _sort_sets(value, dumped)
        elif isinstance(value, (tuple, list)) and isinstance(dumped, list):
            for item, item_data in zip(value, dumped):
                if isinstance(item, BaseModel) and isinstance(item_data, dict):
                    _sort_sets(item, item_data)


def canonical_bytes(value: Any, scan_numbers: bool = True) -> bytes:
    """RFC 8785 canonical JSON of a JSON-ready value (string keys only).

    ``scan_numbers=False`` is for values known to hold no JSON number (a model
    without numeric fields), which skips the regular-expression scan.
    """
    try:
        out = _dumps(value, option=_SORTED)
    except (TypeError, ValueError, RecursionError):  # orjson.JSONEncodeError is a TypeError
        out = None
    if out is not None and out[0] in _OBJECT_OR_ARRAY and (
        not scan_numbers or _NEEDS_REFERENCE.search(out) is None
    ) and _key_orders_agree(out):
        return out
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError, RecursionError) as exc:
        raise InputError(f"payload is not canonicalisable JSON: {exc.__class__.__name__}", field="payload") from None


def canonical_text(value: Any) -> str:
    """:func:`canonical_bytes` as text (what the ledger stores)."""
    return canonical_bytes(value).decode("utf-8")


def canonical_json(payload: Any) -> bytes:
    """RFC 8785 canonical JSON bytes of a pydantic model or JSON-ready value.

    >>> canonical_json({"b": [1, 2.5, None], "a": "é"})
    b'{"a":"\\xc3\\xa9","b":[1,2.5,null]}'
    """
    return canonical_bytes(to_json_ready(payload))
