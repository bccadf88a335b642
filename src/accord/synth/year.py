"""One synthetic jurisdiction-period, decided: the cohort, its flat history and its streams.

``draw(profile, seed)`` makes the world (who was booked, what ICE sent, what happened
next); ``decide_history(world, pack)`` applies a law pack with the vectorised engine and
settles each detainer. The same world feeds the ledger path (``accord.synth.objects``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from accord.domain.enums import Action
from accord.law.batch import decide_batch
from accord.law.facts import FACT_NAMES
from accord.law.pack import load_pack

from accord.law.clock_column import hold_deadlines
from .draw import Cohort, draw_cohort
from .flat import facts_frame
from .profile import Profile
from .records import RecordDraws, draw_requests, requests_frame
from .settle import history_columns, settle

#: Seeds are split by purpose so adding a stream never changes another stream's draws.
COHORT_STREAM, RECORDS_STREAM = 0, 1


@dataclass
class World:
    profile: Profile
    seed: int
    id_prefix: str
    cohort: Cohort
    facts: pl.DataFrame  # FACTS + history columns + latent ``_`` columns, one row per detainer
    records: RecordDraws

    def record_requests(self) -> pl.DataFrame:
        return requests_frame(self.records, self.id_prefix)


def draw(profile: Profile, seed: int = 0, id_prefix: str = "") -> World:
    """Draw the whole period for ``profile`` (volumes as in the profile; use ``profile.scaled``)."""
    rng = np.random.default_rng([seed, COHORT_STREAM])
    cohort = draw_cohort(rng, profile.detainers, profile)
    facts = facts_frame(cohort, profile, id_prefix)
    records = draw_requests(np.random.default_rng([seed, RECORDS_STREAM]), profile.record_requests, profile, people=profile.detainers)
    return World(profile, seed, id_prefix, cohort, facts, records)


def decide_frame(facts: pl.DataFrame, pack_id: str) -> pl.DataFrame:
    """``facts`` with the pack's decisions: ``decision_<action>``, ``rule_<action>``, the rule ids
    and citations that decided, the pack and version, and ``_hold_until`` for allowed holds.

    Each row is decided under the law in force on the day it was received (``as_of=None``).
    """
    pack = load_pack(pack_id)
    decided = decide_batch(facts.lazy().select(FACT_NAMES), pack, as_of=None).collect()
    new = [c for c in decided.columns if c not in facts.columns]
    out = pl.concat([facts, decided.select(new)], how="horizontal")
    rule_cols = [f"rule_{a.value}" for a in Action]
    out = out.with_columns(
        *(pl.col(f"decision_{a.value}").cast(pl.String) for a in Action),
        pl.lit(pack.id).alias("pack_id"),
        pl.lit(pack.version).alias("pack_version"),
    )
    # Few distinct rule combinations: build their lists once and join them back (fast at 100 M rows).
    combos = out.select(rule_cols).unique()
    citation = {r.id: r.citation for r in pack.rules}
    rules = [[r for r in row if r is not None] for row in combos.iter_rows()]
    combos = combos.with_columns(
        pl.Series("decision_rules", rules, dtype=pl.List(pl.String)),
        pl.Series("decision_citations", [list(dict.fromkeys(citation[r] for r in rs)) for rs in rules], dtype=pl.List(pl.String)),
    )
    out = out.join(combos, on=rule_cols, how="left", nulls_equal=True, maintain_order="left")
    held = out["decision_hold_past_release"].is_in(["allow", "require"]).fill_null(False)
    law_date = out["received_at"].dt.convert_time_zone(pack.timezone).dt.date()
    deadline = hold_deadlines(out["release_eligible_at"].filter(held), law_date.filter(held), pack)
    full = pl.Series("_hold_until", [None] * out.height, dtype=pl.Datetime("us", "UTC")).scatter(
        held.arg_true(), deadline
    )
    return out.with_columns(full)


def decide_history(world: World, pack_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ``detainers`` history table under ``pack_id`` and the post-release encounters."""
    decided = settle(decide_frame(world.facts, pack_id), world.profile.period_end)
    encounters = encounters_of(decided)
    return history_columns(decided, FACT_NAMES), encounters


def encounters_of(settled: pl.DataFrame) -> pl.DataFrame:
    """ICE arrests, after release, of people the custodian did not transfer (a second stream)."""
    return settled.filter(pl.col("_encountered_at").is_not_null()).select(
        ("E" + pl.col("detainer_id")).alias("encounter_id"), "person_id", "booking_id", "detainer_id",
        pl.col("_encountered_at").alias("encountered_at"),
    )
