"""``datapackage.json``: the report's CSV files described as a Frictionless Data Package (v1 spec).

One resource per CSV (path, format, encoding, a Table Schema of typed fields with titles); the
ledger checkpoint or the Parquet files' hash the figures were computed from is the package's
``checkpoint`` custom property (the spec allows properties of one's own), so the CSVs stay plain
tables whose first row is their header. Suppressed cells are empty (``missingValues``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from .html import Section
from .table import PublishedTable

PROFILE = "tabular-data-package"
#: Frictionless names: lowercase letters, digits, ".", "-", "_"
_NAME = re.compile(r"[^a-z0-9._-]+")


def _type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "number"
    if dtype == pl.Boolean:
        return "boolean"
    return "string"


def _schema(frame: pl.DataFrame, labels: dict[str, str], counts: Sequence[str]) -> dict[str, Any]:
    fields = []
    for c in frame.columns:
        f: dict[str, Any] = {"name": c, "type": "integer" if c in counts else _type(frame.schema[c]), "title": labels.get(c, c)}
        if c in counts:
            f["constraints"] = {"minimum": 0}
        fields.append(f)
    return {"fields": fields, "missingValues": [""]}


def _resource(name: str, title: str, description: str, frame: pl.DataFrame, labels: dict[str, str], counts: Sequence[str],
              **extra: Any) -> dict[str, Any]:
    return {"name": _NAME.sub("-", name.lower()), "path": f"{name}.csv", "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "title": title, "description": description,
            "schema": _schema(frame, labels, counts), **extra}


def datapackage(published: dict[str, PublishedTable], sections: Sequence[Section], *, stamp: dict[str, Any],
                params: dict[str, Any], title: str) -> dict[str, Any]:
    """The package descriptor for a report's tables (sections first, as in the page)."""
    from accord import __version__

    resources = [
        _resource(sec.name, sec.title, sec.description, sec.frame, sec.labels, sec.counts, **({"recipe": sec.recipe} if sec.recipe else {}))
        for sec in sections
    ]
    for name, t in published.items():
        spec = t.spec
        labels = {c: spec.label(c) for c in t.frame.columns}
        resources.append(_resource(name, spec.title, spec.description, t.frame, labels, spec.counts,
                                   legal_basis=spec.legal_basis, suppressed={"primary": t.primary, "secondary": t.secondary}))
    package: dict[str, Any] = {
        "profile": PROFILE,
        "name": "accord-transparency-report",
        "title": title,
        "version": __version__,
        "resources": resources,
        "checkpoint": stamp,
        "suppression": {"threshold": params.get("threshold"), "rule": "counts from 1 to threshold - 1 are hidden (primary), "
                        "and as few and small other cells as keep them from being worked out (secondary)"},
    }
    if stamp.get("created_at"):
        package["created"] = stamp["created_at"]
    return package
