"""Extra report sections that ``accord report verify`` can recompute: what-if and published-vs-recomputed.

A section made here carries a *recipe* (``Section.recipe``, written to the manifest): its kind and
parameters. ``recompute(recipe, history)`` builds the same section again from the report's source,
so verification covers it like any table. A section built by a caller without a recipe is shown
but named as not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from accord.errors import InputError

from .html import Section
from .suppress import DEFAULT_THRESHOLD, Constraint, suppress_cells
from .table import TOTAL_LABEL

#: recipe kind -> function(history, **params) -> list of sections
RECIPES: dict[str, Callable[..., list[Section]]] = {}


def recipe(kind: str) -> Callable[[Callable[..., list[Section]]], Callable[..., list[Section]]]:
    def register(fn: Callable[..., list[Section]]) -> Callable[..., list[Section]]:
        RECIPES[kind] = fn
        return fn
    return register


def recompute(spec: dict[str, Any], history: Any) -> list[Section]:
    """The sections a recipe makes, from ``history`` (a ``History``)."""
    kind = spec.get("kind")
    if kind not in RECIPES:
        raise InputError(f"unknown section recipe '{kind}': made by another Accord version?", field="recipe")
    params = {k: v for k, v in spec.items() if k != "kind"}
    return RECIPES[kind](history, **params)


def _received_total() -> Any:
    """The quantity 'every detainer of the history' (the main table's Total received)."""
    from .catalog import BY_NAME, MAIN_TABLE

    return BY_NAME[MAIN_TABLE].quantity({"period": TOTAL_LABEL}, "received")


def _pack_name(pack_id: str) -> str:
    from accord.law import load_pack

    return load_pack(pack_id).name


@recipe("whatif")
def whatif_sections(history: Any, pack_a: str, pack_b: str, threshold: int = DEFAULT_THRESHOLD) -> list[Section]:
    """Every detainer of the history replayed under ``pack_a`` and ``pack_b``: the side-by-side counts and
    the rules that drove the difference (rule summaries shown, ids on hover)."""
    from accord.synth.whatif import compare

    w = compare(history.detainers_frame(), pack_a, pack_b)
    return [counts_section(w, threshold), drivers_section(w, threshold)]


def counts_section(w: Any, threshold: int = DEFAULT_THRESHOLD) -> Section:
    a, b = w.table.columns[2], w.table.columns[3]
    name_a, name_b = _pack_name(w.pack_a), _pack_name(w.pack_b)
    detainers_row = w.table["metric"].to_list().index("detainers")
    return Section(
        "whatif_counts", f"What if: the same detainers decided under {name_b} instead of {name_a}", w.table,
        "Every detainer of the history replayed under both laws, each at the law in force on its received date. "
        "These are what each law would allow or require, not what happened: 'Declined under this law' counts "
        "detainers for which the law allows none of the actions requested, while 'Declined' in the key figures "
        "counts detainers that were not honoured, as recorded in the history.",
        counts=(a, b, "difference"),
        quantities={(detainers_row, a): _received_total(), (detainers_row, b): _received_total()},
        recipe={"kind": "whatif", "pack_a": w.pack_a, "pack_b": w.pack_b, "threshold": threshold},
        labels={"label": "Detainers", a: f"Under {name_a}", b: f"Under {name_b}", "difference": "Difference"},
        html_columns=("label", a, b, "difference"),
    )


def _rule_summaries(pack_id: str) -> dict[str, str]:
    from accord.law import load_pack

    return {r.id: r.summary for r in load_pack(pack_id).rules}


def drivers_section(w: Any, threshold: int = DEFAULT_THRESHOLD) -> Section:
    d = w.rule_drivers
    sa, sb = _rule_summaries(w.pack_a), _rule_summaries(w.pack_b)
    def said(rule: str, summaries: dict[str, str], citation: str) -> pl.Expr:
        text = pl.col(rule).replace_strict(summaries, default=None, return_dtype=pl.String).fill_null("(no rule)")
        return pl.when(pl.col(citation).is_not_null()).then(text + " (" + pl.col(citation) + ")").otherwise(text)

    d = d.with_columns(
        pl.col("action").str.replace_all("_", " ").alias("action"),
        said("rule_a", sa, "citation_a").alias("rule_a_summary"),
        said("rule_b", sb, "citation_b").alias("rule_b_summary"),
    )
    d = suppressed_drivers(d, "detainers", "action", threshold)
    name_a, name_b = _pack_name(w.pack_a), _pack_name(w.pack_b)
    return Section(
        "whatif_rule_drivers", "Which rules drove the difference", d,
        "For each requested action whose answer differs between the two laws: the rule that decided it under each, "
        "and how many detainers moved that way (small counts suppressed).",
        counts=("detainers",),
        recipe={"kind": "whatif", "pack_a": w.pack_a, "pack_b": w.pack_b, "threshold": threshold},
        labels={"action": "Action", "rule_a_summary": f"Rule and citation under {name_a}", "outcome_a": "Answer",
                "rule_b_summary": f"Rule and citation under {name_b}", "outcome_b": "Answer", "detainers": "Detainers",
                "citation_a": f"Citation ({name_a})", "citation_b": f"Citation ({name_b})"},
        html_columns=("action", "rule_a_summary", "outcome_a", "rule_b_summary", "outcome_b", "detainers"),
        hover={"rule_a_summary": "rule_a", "rule_b_summary": "rule_b"},
    )


def suppressed_drivers(drivers: pl.DataFrame, count: str, group: str, threshold: int | None = None) -> pl.DataFrame:
    """Rule drivers with small counts hidden: each action's rows add up to a figure a reader can work out
    (the detainers whose answer changed), so a lone hidden row would be that sum minus the rest;
    complementary suppression keeps it hidden."""
    threshold = threshold or DEFAULT_THRESHOLD
    values = {i: int(v) for i, v in enumerate(drivers[count])}
    constraints = []
    for g, rows in drivers.with_row_index("_i").group_by(group, maintain_order=True).agg(pl.col("_i")).iter_rows():
        total = ("total", g)
        values[total] = sum(values[i] for i in rows)
        constraints.append(Constraint(total, tuple(rows)))
    hidden = suppress_cells(values, constraints, threshold, known={k.total for k in constraints if values[k.total] >= threshold})
    mask = pl.Series([i in hidden for i in range(drivers.height)], dtype=pl.Boolean)
    return drivers.with_columns(pl.when(mask).then(None).otherwise(pl.col(count)).alias(count))


#: where the calibration figures come from, as a reader can look it up
FIGURES_SOURCE = ("Figures from the 13 February 2020 letter of the acting ICE director to the Mayor of New York City, "
                  "as reported in the press in early 2020")


@recipe("published_vs_recomputed")
def published_vs_recomputed(history: Any, scale: float = 1.0, window_end: str | None = None, window_days: int = 21) -> list[Section]:
    """The published figures of the 2020 NYC dispute beside the same figures counted from the history."""
    from datetime import datetime

    from accord.synth.calibration import NYC_2020_FIGURES, check, measure
    from accord.synth.profile import NYC_2020

    if history.encounters is None:
        raise InputError("this section needs the post-release encounters, which only a ledger source has", field="recipe")
    end = datetime.fromisoformat(window_end) if window_end else NYC_2020.period_end
    observed = measure(history.frames["detainers"], history.encounters, end, window_days)
    if scale == 1.0:
        checks = check(observed)
    else:
        from dataclasses import replace

        checks = check(observed, tuple(replace(f, published=max(1, round(f.published * scale))) for f in NYC_2020_FIGURES))
    frame = pl.DataFrame({
        "figure": [c.figure.label for c in checks],
        "published": [c.figure.published for c in checks],
        "accepted": [c.figure.describe() for c in checks],
        "recomputed": [c.value for c in checks],
        "within": ["yes" if c.ok else "no" for c in checks],
    })
    quantities = {}
    from .catalog import BY_NAME, MAIN_TABLE

    main = BY_NAME[MAIN_TABLE]
    for i, c in enumerate(checks):  # the figures that count exactly what a main-table Total counts
        col = {"declined": "declined", "honored": "transferred"}.get(c.figure.key)
        if col:
            quantities[(i, "recomputed")] = main.quantity({"period": TOTAL_LABEL}, col)
    return [Section(
        "published_vs_recomputed", "Published figures beside the figures recomputed from the ledger", frame,
        f"{FIGURES_SOURCE}. Recomputed by counting detainer, decision, release and encounter events.",
        counts=("recomputed",), quantities=quantities,
        recipe={"kind": "published_vs_recomputed", "scale": scale, "window_end": end.isoformat(), "window_days": window_days},
        labels={"figure": "Figure", "published": "Published", "accepted": "Accepted range", "recomputed": "Recomputed",
                "within": "Within range"},
    )]
