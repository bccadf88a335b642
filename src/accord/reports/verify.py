"""``accord report verify``: recompute a published report from its source and compare everything it shows.

The manifest names the source (a ledger checkpoint, or the SHA-256 of Parquet files)
and the parameters (threshold, period). We rebuild the history from that source, run
the same queries and suppression, and compare each CSV as published, cell by cell: every
table, every section made from a recipe (what-if, published-vs-recomputed), and every table
left out for having no rows (it must still have none). A section without a recipe is named
as not checked, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from accord.errors import InputError, IntegrityError

from .build import MANIFEST, compute_tables
from .catalog import BY_NAME
from .queries import QueryParams
from .source import History
from .table import publish_all


class ReportMismatchError(IntegrityError):
    """A published figure differs from the one recomputed from its source."""


@dataclass
class VerifyResult:
    tables_checked: list[str] = field(default_factory=list)
    mismatches: dict[str, str] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    #: shown in the report but not recomputed: name -> why
    unchecked: dict[str, str] = field(default_factory=dict)
    #: tables left out for having no rows, recomputed and still empty
    omitted_checked: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def read_manifest(report_dir: Path) -> dict[str, Any]:
    path = report_dir / MANIFEST
    if not path.is_file():
        raise InputError("not a report directory: manifest.json is missing", source=str(report_dir))
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest is not JSON ({exc.msg})", source=str(path), line=exc.lineno) from exc
    for key in ("source", "params", "tables"):
        if key not in manifest:
            raise InputError("missing key in manifest", source=str(path), field=key)
    return manifest


def _source_history(manifest: dict[str, Any], db_url: str | None, history_dir: str | Path | None) -> History:
    stamp = manifest["source"]
    kind = stamp.get("kind")
    if kind == "ledger":
        if not db_url:
            raise InputError("this report was computed from a ledger: give --db URL", field="db")
        from accord.ledger import Ledger

        from .export import history_at_stamp

        with Ledger.open(db_url, create=False) as led:
            return history_at_stamp(led, stamp)
    if kind == "parquet":
        if not history_dir:
            raise InputError("this report was computed from Parquet files: give --history DIR", field="history")
        history = History.from_parquet(history_dir)
        digest = history.final_stamp()["sha256"]
        if digest != stamp.get("sha256"):
            raise IntegrityError(f"the Parquet files hash to {digest}, the report says {stamp.get('sha256')}")
        return history
    raise InputError(f"a report from a '{kind}' source cannot be recomputed (no ledger or files to read)", field="source")


def _first_difference(published: pl.DataFrame, recomputed: pl.DataFrame) -> str:
    published = published.with_columns([pl.col(c).fill_null("") for c in published.columns if published.schema[c] == pl.String])
    recomputed = recomputed.with_columns([pl.col(c).fill_null("") for c in recomputed.columns if recomputed.schema[c] == pl.String])
    if published.columns != recomputed.columns:
        return f"columns differ: {published.columns} vs {recomputed.columns}"
    if published.height != recomputed.height:
        return f"{published.height} rows published, {recomputed.height} recomputed"
    for i, (a, b) in enumerate(zip(published.iter_rows(), recomputed.iter_rows(), strict=True)):
        if a != b:
            diff = [f"{c}: published {x!r}, recomputed {y!r}" for c, x, y in zip(published.columns, a, b, strict=True) if x != y]
            return f"row {i + 1} ({a[0]}): " + "; ".join(diff)
    return ""


def _read_published(path: Path, like: pl.DataFrame) -> pl.DataFrame:
    if not path.is_file():
        raise InputError("published table file is missing", source=str(path))
    def kind(dtype: pl.DataType) -> pl.DataType:
        if dtype.is_integer():
            return pl.Int64
        if dtype.is_float():
            return pl.Float64
        return pl.Boolean if dtype == pl.Boolean else pl.String

    schema = {c: kind(like.schema[c]) for c in like.columns}
    try:
        frame = pl.read_csv(path, schema_overrides=schema, infer_schema=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(f"cannot read the published table: {exc}", source=str(path)) from exc
    return frame


def verify_report(report_dir: str | Path, *, db_url: str | None = None, history_dir: str | Path | None = None,
                  backend: str = "duckdb") -> VerifyResult:
    """Recompute every table and section of the report at ``report_dir`` and compare it with what was published."""
    report_dir = Path(report_dir)
    manifest = read_manifest(report_dir)
    params = manifest["params"]
    threshold = int(params["threshold"])
    entries = manifest["tables"]
    names = [n for n, t in entries.items() if not t.get("extra")]
    omitted = list(manifest.get("omitted", {}))
    unknown = [n for n in [*names, *omitted] if n not in BY_NAME]
    if unknown:
        raise InputError(f"unknown table(s) {', '.join(unknown)}: made by another Accord version?", field="tables")
    history = _source_history(manifest, db_url, history_dir)
    raw = compute_tables(history, backend=backend, params=QueryParams(period=params.get("period", "month")), names=[*names, *omitted])
    result = VerifyResult(source=manifest["source"])
    for name in omitted:
        if raw[name].height:
            result.mismatches[name] = f"left out of the report as empty, but the source gives it {raw[name].height} row(s)"
        else:
            result.omitted_checked.append(name)
    raw = {n: raw[n] for n in names}
    republished = publish_all(raw, {name: BY_NAME[name] for name in names}, threshold)
    for name in names:
        recomputed = republished[name].frame
        published = _read_published(report_dir / entries[name]["csv"], recomputed)
        result.tables_checked.append(name)
        diff = _first_difference(published, recomputed)
        if diff:
            result.mismatches[name] = diff
    _verify_sections(report_dir, entries, history, republished, raw, threshold, result)
    return result


def _verify_sections(report_dir: Path, entries: dict[str, Any], history: History, republished: dict[str, Any],
                     raw: dict[str, pl.DataFrame], threshold: int, result: VerifyResult) -> None:
    """Recompute each section from its recipe (once per recipe), suppress it as the build did, and compare."""
    from .build import suppress_section
    from .sections import recompute
    from .table import hidden_quantities

    secret = hidden_quantities(republished, raw)
    made: dict[str, dict[str, Any]] = {}
    for name, entry in entries.items():
        if not entry.get("extra"):
            continue
        recipe = entry.get("recipe")
        if not recipe:
            result.unchecked[name] = "added by the report's caller without a recipe: Accord cannot recompute it"
            continue
        key = json.dumps(recipe, sort_keys=True)
        if key not in made:
            try:
                made[key] = {s.name: suppress_section(s, threshold, secret) for s in recompute(recipe, history)}
            except (InputError, pl.exceptions.PolarsError) as exc:
                for other, e in entries.items():
                    if e.get("extra") and json.dumps(e.get("recipe"), sort_keys=True) == key:
                        result.unchecked[other] = f"cannot be recomputed from this source: {str(exc).splitlines()[0]}"
                made[key] = {}
                continue
        if name in result.unchecked:
            continue
        sec = made[key].get(name)
        if sec is None:
            result.mismatches[name] = "its recipe no longer makes a section of this name"
            continue
        published = _read_published(report_dir / entry["csv"], sec.frame)
        result.tables_checked.append(name)
        diff = _first_difference(published, sec.frame)
        if diff:
            result.mismatches[name] = diff
