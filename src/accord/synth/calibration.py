"""The published figures a synthetic year must reproduce, and how close is close enough.

Each figure is recomputed by *counting* case-level rows of a decided history (a
``detainers`` frame with dispositions, plus the post-release encounters), never read
from a parameter. Tolerances are three standard deviations of the sampling noise of a
year of that size (Poisson: ``3 * sqrt(target)``), so a generator that is right on
average passes for all but about one seed in 400 per figure; a floor is a floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from .catalogue import PUBLISHED_CATEGORIES


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    published: int
    kind: str = "about"  # "about": published ± tolerance; "at_least": >= published
    source: str = "DOMAIN.md §10"

    @property
    def tolerance(self) -> int:
        return 0 if self.kind == "at_least" else math.ceil(3 * math.sqrt(self.published))

    def accepts(self, value: int) -> bool:
        if self.kind == "at_least":
            return value >= self.published
        return abs(value - self.published) <= self.tolerance

    def describe(self) -> str:
        return f">= {self.published:,}" if self.kind == "at_least" else f"{self.published:,} ± {self.tolerance:,}"


_LABELS = {"assault": "assaults", "dui": "DUIs", "sex_crime": "sex crimes", "weapons": "weapons offences", "robbery": "robberies", "homicide": "homicides"}
_COUNTS = {"assault": 3500, "dui": 1500, "sex_crime": 1000, "weapons": 1000, "robbery": 500, "homicide": 200}

#: DOMAIN.md §10, the 2020 New York City dispute.
NYC_2020_FIGURES: tuple[Figure, ...] = (
    Figure("with_history", "Detainers on subjects with criminal histories", 7526),
    *(Figure(f"category_{c.value}", f"… whose histories included {_LABELS[c.value]}", _COUNTS[c.value]) for c in PUBLISHED_CATEGORIES),
    Figure("category_overlap", "Category overlap (sum of the six − subjects in any), implied >= 7,700 − 7,526", 174, "at_least"),
    Figure("declined", "Detainers declined", 4000, "at_least"),
    Figure("honored", "Detainers honored (transferred to ICE)", 25),
    Figure("post_release_arrests", "ICE arrests of released people in three weeks", 112),
)


def measure(detainers: pl.DataFrame | pl.LazyFrame, encounters: pl.DataFrame | pl.LazyFrame, window_end: datetime, window_days: int = 21) -> dict[str, int]:
    """Count the figures from case-level rows.

    ``detainers`` needs ``has_criminal_history``, ``offense_categories`` and ``disposition``;
    ``encounters`` needs ``encountered_at``. The encounter window is the ``window_days``
    before ``window_end``.
    """
    d = detainers.lazy()
    hist = pl.col("has_criminal_history")
    cats = [pl.col("offense_categories").list.contains(c.value) for c in PUBLISHED_CATEGORIES]
    row = d.select(
        hist.sum().alias("with_history"),
        *((hist & cat).sum().alias(f"category_{c.value}") for c, cat in zip(PUBLISHED_CATEGORIES, cats, strict=True)),
        (hist & pl.any_horizontal(cats)).sum().alias("_any"),
        (pl.col("disposition") == "declined").sum().alias("declined"),
        (pl.col("disposition") == "transferred").sum().alias("honored"),
    ).collect().row(0, named=True)
    start = window_end - timedelta(days=window_days)
    at = pl.col("encountered_at")
    row["post_release_arrests"] = encounters.lazy().filter((at >= start) & (at < window_end)).select(pl.len()).collect().item()
    row["category_overlap"] = sum(row[f"category_{c.value}"] for c in PUBLISHED_CATEGORIES) - row.pop("_any")
    return {k: int(v) for k, v in row.items()}


@dataclass(frozen=True)
class Check:
    figure: Figure
    value: int

    @property
    def ok(self) -> bool:
        return self.figure.accepts(self.value)


def check(observed: dict[str, int], figures: tuple[Figure, ...] = NYC_2020_FIGURES) -> list[Check]:
    return [Check(f, observed[f.key]) for f in figures]


def mean_figures(profile, seeds: range, pack_id: str = "nyc_doc") -> dict[str, float]:
    """Average of each figure over ``seeds``: how the profile's free rates were tuned."""
    from .year import decide_history, draw

    runs = []
    for s in seeds:
        detainers, encounters = decide_history(draw(profile, s), pack_id)
        runs.append(measure(detainers, encounters, profile.period_end, profile.encounter_window_days))
    return {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
