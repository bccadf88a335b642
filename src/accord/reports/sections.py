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


#: figures of each imported release's manifest, in the order shown: (manifest key or derived, label)
RELEASE_FIGURES = (
    ("rows", "Data rows read (all sheets)"),
    ("imported", "Rows imported"),
    ("rejected", "Rows rejected (no readable prepare date, a date out of range, ...)"),
    ("likely_duplicates", "Rows in a likely-duplicate group (same anonymised identifier and prepare date)"),
    ("duplicate_groups", "Likely-duplicate groups"),
    ("left_out", "Rows left out of every total as likely duplicates (each group counted once)"),
    ("redacted", "Cells redacted (b(6), b(7)(c) markers), all columns"),
    ("unknown", "Category cells not recognised (kept as written, counted unknown), mapped columns"),
    ("unreadable", "Date and number cells that could not be read (kept as unknown), mapped columns"),
)


def _release_label(m: dict[str, Any]) -> str:
    return f"{m.get('release')} ({m.get('file_name')}, sha256 {str(m.get('sha256', ''))[:16]})"


@recipe("ddp_release")
def release_sections(history: Any, threshold: int = DEFAULT_THRESHOLD) -> list[Section]:
    """"What this release can and cannot tell", for a history holding imported public releases (``accord.ddp``):
    the import's counts, every column of the file (used or ignored; filled, redacted, unrecognised and unreadable
    cells), and every fact the law reads: how many imported rows the release tells it for. From the releases'
    manifests (``import.ddp.release``) and the imported rows themselves; empty when the history holds none."""
    from accord.law.facts import FACTS

    releases = list(getattr(history, "releases", None) or [])
    if not releases:
        return []
    recipe_spec = {"kind": "ddp_release", "threshold": threshold}
    figures: dict[str, list[Any]] = {"release": [], "figure": [], "label": [], "count": []}
    columns: dict[str, list[Any]] = {"release": [], "column": [], "use": [], "filled": [], "redacted": [], "unknown": [],
                                     "unreadable": [], "unknown_examples": []}
    for m in releases:
        label = _release_label(m)
        value = {**{k: int(m.get(k) or 0) for k in ("rows", "imported", "rejected", "likely_duplicates", "duplicate_groups")},
                 "left_out": int(m.get("likely_duplicates") or 0) - int(m.get("duplicate_groups") or 0),
                 "redacted": sum(int(v) for v in (m.get("redacted_cells") or {}).values()),
                 "unknown": sum(int(v) for v in (m.get("unknown_values") or {}).values()),
                 "unreadable": sum(int(v) for v in (m.get("unreadable") or {}).values())}
        for key, text in RELEASE_FIGURES:
            figures["release"].append(label)
            figures["figure"].append(key)
            figures["label"].append(text)
            figures["count"].append(value[key])
        used = {c for s in m.get("sheets", []) for c in s.get("used", [])}
        ignored = {c for s in m.get("sheets", []) for c in s.get("ignored", [])} - used
        filled, redacted = m.get("filled_cells") or {}, m.get("redacted_cells") or {}
        unknown, unreadable, examples = m.get("unknown_values") or {}, m.get("unreadable") or {}, m.get("unknown_examples") or {}
        for col in sorted(used | ignored | set(filled) | set(redacted), key=lambda c: (c not in used, c)):
            columns["release"].append(label)
            columns["column"].append(col)
            columns["use"].append("used" if col in used else "ignored (no fact the law reads needs it)")
            columns["filled"].append(int(filled.get(col, 0)))
            columns["redacted"].append(int(redacted.get(col, 0)))
            columns["unknown"].append(int(unknown.get(col, 0)))
            columns["unreadable"].append(int(unreadable.get(col, 0)))
            ex = examples.get(col) or {}
            columns["unknown_examples"].append(", ".join(f"{v!r}" for v, _ in sorted(ex.items(), key=lambda kv: (-kv[1], kv[0]))[:3]))
    missing = sorted({c for m in releases for s in m.get("sheets", []) for c in s.get("missing", [])})
    span = ", ".join(f"{m.get('release')}: prepared {m.get('prepared_from')} to {m.get('prepared_to')}" for m in releases)
    notes = " ".join(dict.fromkeys(n for m in releases for n in m.get("notes", [])))
    det = history.frames.get("detainers") if getattr(history, "frames", None) else None
    imported = det.filter(pl.col("detainer_id").str.starts_with("ddp-")) if det is not None else pl.DataFrame()
    facts = [f for f in FACTS if f.name in imported.columns]
    fact_frame = pl.DataFrame({
        "fact": [f.name for f in facts],
        "meaning": [f.meaning for f in facts],
        "known": [int(imported[f.name].is_not_null().sum()) for f in facts],
        "unknown": [int(imported[f.name].is_null().sum()) for f in facts],
    }, schema={"fact": pl.String, "meaning": pl.String, "known": pl.Int64, "unknown": pl.Int64})
    never = [f for f, k in zip(fact_frame["fact"], fact_frame["known"]) if k == 0]
    return [
        Section("ddp_release", "What this release can and cannot tell: the import",
                pl.DataFrame(figures, schema={"release": pl.String, "figure": pl.String, "label": pl.String, "count": pl.Int64}),
                f"Imported public data (ICE detainer releases as the Deportation Data Project republishes them). {span}. "
                "Likely duplicates are kept in the ledger and counted once in every table of this report. "
                f"Rejected rows are in the ledger with their sheet, row and reason. {notes}",
                counts=("count",), recipe=recipe_spec,
                labels={"release": "Release", "label": "Figure", "count": "Count"}, html_columns=("release", "label", "count")),
        Section("ddp_release_columns", "What this release can and cannot tell: its columns",
                pl.DataFrame(columns, schema={"release": pl.String, "column": pl.String, "use": pl.String, "filled": pl.Int64,
                                              "redacted": pl.Int64, "unknown": pl.Int64, "unreadable": pl.Int64,
                                              "unknown_examples": pl.String}),
                "Every column of the file: used (mapped onto a detainer, a custodian, an office or a conviction) or ignored, "
                "with the cells that hold a value, are redacted, hold a category value not recognised, or could not be read"
                + (f". Mapped columns no sheet has (unknown for every row): {', '.join(missing)}" if missing else "") + ".",
                counts=("filled", "redacted", "unknown", "unreadable"), recipe=recipe_spec,
                labels={"release": "Release", "column": "Column", "use": "Use", "filled": "Cells filled", "redacted": "Redacted",
                        "unknown": "Not recognised", "unreadable": "Unreadable", "unknown_examples": "Most frequent unrecognised"}),
        Section("ddp_release_facts", "What this release can and cannot tell: the facts the law reads", fact_frame,
                "For every fact a law pack reads, how many imported detainers (likely duplicates counted once) the release "
                "tells it for. An unknown fact is never filled in: a replay under a pack counts the detainers whose outcome "
                "depends on it separately (accord simulate)."
                + (f" Never told by this release: {', '.join(never)}." if never else ""),
                counts=("known", "unknown"), recipe=recipe_spec,
                labels={"fact": "Fact", "meaning": "What it is", "known": "Detainers: known", "unknown": "Detainers: unknown"}),
    ]


@recipe("replay")
def replay_sections(history: Any, packs: list[str], by: str | None = None, threshold: int = DEFAULT_THRESHOLD) -> list[Section]:
    """Every detainer of the history decided under each of ``packs`` (whatever its jurisdiction: a what-if),
    with honest unknowns (``accord.synth.replay``): what each law would decide, and how many detainers depend
    on facts the history does not hold, by fact. ``by``: also per state, facility, office or month."""
    from accord.synth.replay import MEANING, ROW_OUTCOMES, replay

    labels = {"required": "Compliance required by law", "honoured": "Allowed (honoured at least in part)",
              "declined": "Would be declined (every requested action decided, none allowed)",
              "depends": "Depend on facts the data does not hold", "before_law": "Received before this law took effect"}
    outcome_rows: dict[str, list[Any]] = {"law": [], "group": [], "outcome": [], "label": [], "detainers": []}
    fact_rows: dict[str, list[Any]] = {"law": [], "fact": [], "meaning": [], "detainers": []}
    names = {}
    for pack_id in packs:
        r = replay(history.detainers_frame(), pack_id, by=by)
        names[pack_id] = r.pack_name
        for row in r.outcomes.iter_rows(named=True):
            for o in ROW_OUTCOMES:
                outcome_rows["law"].append(r.pack)
                outcome_rows["group"].append(row["group"])
                outcome_rows["outcome"].append(o)
                outcome_rows["label"].append(labels[o])
                outcome_rows["detainers"].append(int(row[o]))
        for fact, n in r.facts.iter_rows():
            fact_rows["law"].append(r.pack)
            fact_rows["fact"].append(fact)
            fact_rows["meaning"].append(MEANING.get(fact, ""))
            fact_rows["detainers"].append(int(n))
    outcomes = pl.DataFrame(outcome_rows, schema={"law": pl.String, "group": pl.String, "outcome": pl.String,
                                                  "label": pl.String, "detainers": pl.Int64})
    # each (law, group)'s outcomes add up to its detainers: complementary suppression keeps a hidden one hidden
    outcomes = suppressed_drivers(outcomes.with_columns((pl.col("law") + "\x1f" + pl.col("group")).alias("_key")),
                                  "detainers", "_key", threshold).drop("_key")
    facts = pl.DataFrame(fact_rows, schema={"law": pl.String, "fact": pl.String, "meaning": pl.String, "detainers": pl.Int64})
    spec = {"kind": "replay", "packs": list(packs), "by": by, "threshold": threshold}
    laws = ", ".join(names[p] for p in packs)
    return [
        Section("replay_outcomes", f"What the law would decide for these detainers: {laws}", outcomes,
                "Every detainer of the history decided under each law, whatever its jurisdiction, at the law in force on its "
                "received date. Only what the data tells is decided: a detainer whose answer depends on a fact the data does "
                "not hold is counted apart, never guessed" + (f"; by {by}" if by else "") + ".",
                counts=("detainers",), recipe=spec,
                labels={"law": "Law", "group": by.capitalize() if by else "Detainers", "label": "Answer", "detainers": "Detainers"},
                html_columns=("law", "group", "label", "detainers") if by else ("law", "label", "detainers")),
        Section("replay_unknown_facts", "What the answer depends on: facts the data does not hold", facts,
                "For each law, the detainers left undecided, by a fact they depend on (a detainer may depend on several).",
                counts=("detainers",), recipe=spec,
                labels={"law": "Law", "fact": "Fact", "meaning": "What it is", "detainers": "Detainers"}),
    ]
