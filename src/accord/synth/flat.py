"""A cohort as one flat row per detainer: the law's FACTS columns plus the history columns.

This is the at-scale path: no domain objects, only numpy reductions over the cohort's
long conviction arrays. ``tests/synth`` checks that, row for row, these facts equal
``accord.law.facts.facts_from_case`` applied to the domain objects built from the same
cohort (``accord.synth.objects``), so the two paths cannot drift apart.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from accord.domain.enums import OffenseCategory, OffenseLevel
from accord.domain.forms import ISSUE_DAY_ZONE, form_spec
from accord.law.facts import FACT_SCHEMA

from .catalogue import CATEGORIES, OFFENCES
from .draw import ADMIN_WARRANTS, FORMS, JUDGE_KINDS, Cohort
from .profile import Profile

UTC_TS = pl.Datetime("us", "UTC")

_FELONY = np.array([o.level is OffenseLevel.FELONY for o in OFFENCES])
_MISD = np.array([o.level is OffenseLevel.MISDEMEANOR for o in OFFENCES])
_NYC_VS = np.array([o.nyc_violent_or_serious for o in OFFENCES])
#: Pre-2014 NYC "covered crime" (S1): the synthetic stand-in is every felony plus the
#: misdemeanours in the violent categories. Describes the data, not the law.
_COVERED = _FELONY | (_MISD & np.array([o.category in (OffenseCategory.ASSAULT, OffenseCategory.SEX_CRIME, OffenseCategory.WEAPONS) for o in OFFENCES]))
_CA_SV = np.array([o.ca_serious_or_violent for o in OFFENCES])
_CA_LIST = np.array([o.ca_list_code is not None for o in OFFENCES])
_AGG = np.array([o.aggravated_felony for o in OFFENCES])
_SEX_FELONY = _FELONY & np.array([o.category is OffenseCategory.SEX_CRIME for o in OFFENCES])

#: Every offence-category combination as a list, indexed by the category bitmask.
_CATEGORY_LISTS = pl.Series(
    "offense_categories",
    [[c.value for i, c in enumerate(CATEGORIES) if m >> i & 1] for m in range(1 << len(CATEGORIES))],
    dtype=pl.List(pl.String()),
)


def covered_crime(offence: int) -> bool:
    return bool(_COVERED[offence])


class _Segments:
    """Per-detainer reductions over long arrays sorted by detainer row (computed once per cohort)."""

    def __init__(self, rows: np.ndarray, n: int):
        self.n = n
        self.starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1] if len(rows) else np.zeros(0, dtype=np.int64)
        self.uniq = rows[self.starts] if len(rows) else self.starts

    def any(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        if len(self.starts):
            out[self.uniq] = np.add.reduceat(values.astype(np.int32), self.starts) > 0
        return out

    def max(self, values: np.ndarray) -> np.ndarray:
        """Max per row; -1 where a row has no values."""
        out = np.full(self.n, -1, dtype=np.int64)
        if len(self.starts):
            out[self.uniq] = np.maximum.reduceat(values.astype(np.int64), self.starts)
        return out


def _dates(days: np.ndarray) -> pl.Series:
    s = pl.Series(days.astype(np.int32))
    return pl.select(pl.when(s >= 0).then(s).otherwise(None).cast(pl.Date)).to_series()


def _ts(us: np.ndarray) -> pl.Series:
    return pl.Series(us, dtype=pl.Int64).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")


def _issue_days(us: np.ndarray) -> pl.Series:
    """The day of issue as ``DetainerRequest.issued_on`` counts it (accord.domain.forms.ISSUE_DAY_ZONE)."""
    return _ts(us).dt.convert_time_zone(ISSUE_DAY_ZONE.key).dt.date()


def _in_use(forms: tuple[str, ...], form: np.ndarray, days: pl.Series) -> pl.Series:
    """``form_in_use_on_issue`` from the catalogue's dates (accord.domain.forms)."""
    out = np.ones(len(form), dtype=bool)
    day = days.to_numpy()
    for i, name in enumerate(forms):
        spec = form_spec(name)
        sel = form == i
        if spec.in_use_from is not None:
            out[sel] &= day[sel] >= np.datetime64(spec.in_use_from)
        if spec.in_use_until is not None:
            out[sel] &= day[sel] < np.datetime64(spec.in_use_until)
    return pl.Series(out)


def facts_frame(c: Cohort, profile: Profile, id_prefix: str) -> pl.DataFrame:
    """FACTS + history columns (before any decision) + latent ``_`` columns for what happens next."""
    n = len(c)
    real = ~c.conv_yo  # YO adjudications are not convictions (S1)
    rows, off = c.conv_row, c.conv_offence
    lookback = np.where(c.conv_release_day >= 0, c.conv_release_day, c.conv_day)

    seg = _Segments(rows, n)

    def any_(flag: np.ndarray) -> np.ndarray:
        return seg.any(real & flag[off])

    def latest(flag: np.ndarray, day: np.ndarray) -> np.ndarray:
        return seg.max(np.where(real & flag[off], day, -1))

    form = c.form
    legacy_hold = (form == 1) | (form == 2)
    pc_charge = _Segments(c.charge_row, n).any(c.charge_pc_found)
    registrant = any_(_SEX_FELONY) if profile.jurisdiction.startswith("US-CA") else np.zeros(n, dtype=bool)
    idx = np.arange(c.first_index, c.first_index + n)
    ids = pl.Series(idx).cast(pl.String)
    frame = pl.DataFrame(
        {
            "detainer_id": ids,
            "form": pl.Series(FORMS).gather(form),
            "issuing_component": pl.repeat("ICE", n, eager=True),
            "requests_hold": c.box1 | legacy_hold,
            "requests_notify": c.box1 | c.box2 | legacy_hold | (form == 3),
            "requests_transfer": c.box1 | c.box2 | legacy_hold | (form == 4),
            "issued_on": _issue_days(c.issued_us),
            "form_in_use_on_issue": _in_use(FORMS, form, _issue_days(c.issued_us)),
            "received_at": _ts(c.received_us),
            "release_eligible_at": _ts(c.eligible_us),
            "arrested_at": _ts(c.booked_us),
            "judicial_warrant_judge_kind": pl.Series(["none", *JUDGE_KINDS[1:]]).gather(c.judge),
            "judicial_warrant_basis": pl.Series(["none", "federal_criminal_immigration"]).gather((c.judge > 0).astype(np.int64)),
            "judicial_pc_determination_only": np.zeros(n, dtype=bool),
            "administrative_warrant_form": pl.Series(["none", *ADMIN_WARRANTS[1:]]).gather(np.where(form == 0, c.admin_warrant, 0)),
            "served_on_subject": c.served,
            "outstanding_federal_felony_warrant": c.judge > 0,
            "terrorist_screening_match": c.tsdb,
            "previously_removed_and_reentered": c.reentered,
            "status_proof_presented": c.claims_citizen,
            "ca_sex_or_arson_registrant": registrant,
            "magistrate_probable_cause_current_charge": pc_charge,
            "felony_conviction_ever": any_(_FELONY),
            "nyc_violent_or_serious_ever": any_(_NYC_VS),
            "nyc_vs_lookback_from": _dates(latest(_NYC_VS, lookback)),
            "nyc_covered_crime_ever": any_(_COVERED),
            "nyc_covered_misdemeanor_ever": any_(_COVERED & _MISD),
            "nyc_covered_misdemeanor_latest_on": _dates(latest(_COVERED & _MISD, c.conv_day)),
            "ca_serious_or_violent_felony_ever": any_(_CA_SV),
            "ca_state_prison_felony_ever": any_(_FELONY),
            "ca_list_felony_ever": any_(_CA_LIST & _FELONY),
            "ca_list_felony_latest_on": _dates(latest(_CA_LIST & _FELONY, c.conv_day)),
            "ca_list_wobbler_misdemeanor_ever": np.zeros(n, dtype=bool),  # the catalogue has no wobblers
            "ca_list_wobbler_misdemeanor_latest_on": _dates(np.full(n, -1)),
            "ca_prop47_reduced": np.zeros(n, dtype=bool),
            "federal_aggravated_felony_ever": any_(_AGG),
            "reimbursement_agreement_in_force": np.zeros(n, dtype=bool),
        }
    )
    frame = frame.with_columns(
        (pl.lit(id_prefix + "D") + pl.col("detainer_id")).alias("detainer_id"),
        (pl.lit(id_prefix + "P") + pl.col("detainer_id")).alias("person_id"),
        (pl.lit(id_prefix + "B") + pl.col("detainer_id")).alias("booking_id"),
        pl.lit(profile.jurisdiction).alias("jurisdiction"),
        pl.lit(profile.receiving_agency_id).alias("receiving_agency_id"),
        pl.Series(list(profile.facilities)).gather(c.facility).alias("facility"),
        pl.lit(profile.issuing_office).alias("issuing_office"),
        _CATEGORY_LISTS.gather(c.category_mask),
        pl.Series("has_criminal_history", c.has_history & seg.any(real)),
        pl.Series("_lifted_at", _ts(np.where(c.lifted, c.lift_us, 0))).alias("_lifted_at"),
        pl.Series("_lifted", c.lifted),
        pl.Series("_pickup", c.pickup),
        pl.Series("_pickup_hours", c.pickup_hours),
        pl.Series("_encounter", c.encounter),
        pl.Series("_encounter_delay_us", c.encounter_delay_us),
    )
    return frame.with_columns(pl.when(pl.col("_lifted")).then(pl.col("_lifted_at")).alias("_lifted_at")).drop("_lifted")


def check_fact_schema(frame: pl.DataFrame) -> None:
    """Fail loudly if the generator and the law's FACTS contract disagree."""
    for name, dtype in FACT_SCHEMA.items():
        if name not in frame.columns or frame.schema[name] != dtype:
            raise AssertionError(f"fact column {name!r}: expected {dtype}, got {frame.schema.get(name)}")
