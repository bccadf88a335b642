"""Vectorised draws of one cohort of detainers: people, bookings, histories, forms, what happens next.

A :class:`Cohort` is a struct of numpy arrays (one row per detainer, one subject and one
booking each) plus long arrays of convictions and current charges keyed by the detainer's
row. Both the embedded path (domain objects for the ledger) and the Parquet path (flat rows
at 100 M scale) are built from the same cohort, so they describe the same synthetic world.
Times are int64 microseconds since the Unix epoch (UTC); dates are int days since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from accord.domain.enums import OffenseCategory, OffenseLevel

from .catalogue import CATEGORIES, CATEGORY_BIT, OFFENCES, offences_in
from .profile import Profile

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

#: Conviction jurisdictions and their shares (assumption: most histories are local).
CONVICTION_JURISDICTIONS = ("US-NY", "US-NJ", "US-PA", "US-FL", "US-CA", "US")
_JUR_P = np.array([0.86, 0.05, 0.03, 0.03, 0.01, 0.02])
SENTENCE_TYPES = ("none", "fine", "probation", "jail", "state_prison", "federal_prison")
FORMS = ("I-247A", "I-247", "I-247D", "I-247N", "I-247X")
ADMIN_WARRANTS = (None, "I-200", "I-205")
JUDGE_KINDS = (None, "federal_magistrate", "article_iii")
#: I-247A box-1 probable-cause checkboxes, by bit.
PC_BASES = ("final_order_of_removal", "pending_removal_proceedings", "biometric_and_records_check", "statements_or_other_evidence")
I247A_SINCE = np.datetime64("2017-04-02", "D").astype(np.int64)  # only form issued since (DOMAIN.md §6.2)

_OFF_LEVEL = np.array([o.level is OffenseLevel.FELONY for o in OFFENCES])
_OFF_MISD = np.array([o.level is OffenseLevel.MISDEMEANOR for o in OFFENCES])
_OFF_CAT_BIT = np.array([CATEGORY_BIT[o.category] for o in OFFENCES], dtype=np.int64)
_FEDERAL = np.array([o.code.startswith("8 USC") for o in OFFENCES])
_BY_CAT = {c: (np.array(offences_in(c)), np.array([OFFENCES[i].weight for i in offences_in(c)])) for c in CATEGORIES}
#: How often each category is the charge on the current booking (assumption).
_CHARGE_CAT_P = {
    OffenseCategory.ASSAULT: 0.28, OffenseCategory.DUI: 0.08, OffenseCategory.SEX_CRIME: 0.03,
    OffenseCategory.WEAPONS: 0.08, OffenseCategory.ROBBERY: 0.04, OffenseCategory.HOMICIDE: 0.01,
    OffenseCategory.DRUGS: 0.18, OffenseCategory.THEFT: 0.15, OffenseCategory.OTHER: 0.15,
}


def pick(rng: np.random.Generator, options: np.ndarray, size: int, p: np.ndarray) -> np.ndarray:
    """``rng.choice(options, size, p=p)`` by inverse CDF: the same distribution, much faster."""
    cdf = np.cumsum(p, dtype=np.float64)
    idx = np.searchsorted(cdf / cdf[-1], rng.random(size), side="right")
    return np.asarray(options)[np.minimum(idx, len(cdf) - 1)]


def to_us(dt: datetime) -> int:
    return int(dt.timestamp() * 1_000_000)


@dataclass
class Cohort:
    """One block of synthetic detainers (see module docstring for units)."""

    first_index: int
    has_history: np.ndarray
    facility: np.ndarray
    booked_us: np.ndarray
    issued_us: np.ndarray
    received_us: np.ndarray
    eligible_us: np.ndarray
    form: np.ndarray  # index into FORMS
    box1: np.ndarray
    box2: np.ndarray
    pc_bases: np.ndarray  # bitmask over PC_BASES
    admin_warrant: np.ndarray  # index into ADMIN_WARRANTS
    judge: np.ndarray  # index into JUDGE_KINDS
    served: np.ndarray
    reentered: np.ndarray
    tsdb: np.ndarray
    claims_citizen: np.ndarray
    lifted: np.ndarray
    lift_us: np.ndarray  # valid where lifted
    pickup: np.ndarray  # ICE would pick up in time if allowed to
    pickup_hours: np.ndarray  # hours after release eligibility ICE arrives when it does
    encounter: np.ndarray  # ICE would arrest this person after a release without transfer
    encounter_delay_us: np.ndarray
    category_mask: np.ndarray  # bit per CATEGORIES over the subject's convictions
    # convictions (long)
    conv_row: np.ndarray  # row of the cohort (0-based, not offset by first_index)
    conv_offence: np.ndarray
    conv_day: np.ndarray
    conv_release_day: np.ndarray  # incarceration end, -1 when none
    conv_sentence: np.ndarray  # index into SENTENCE_TYPES
    conv_yo: np.ndarray  # youthful-offender adjudication (not a conviction under NY law)
    conv_jurisdiction: np.ndarray  # index into CONVICTION_JURISDICTIONS
    # current charges (long)
    charge_row: np.ndarray
    charge_offence: np.ndarray
    charge_pc_found: np.ndarray

    def __len__(self) -> int:
        return len(self.has_history)


def _received_times(rng: np.random.Generator, n: int, start_us: int, end_us: int) -> np.ndarray:
    """Arrival times over the period: weekdays about 2.5x weekends, office hours."""
    start_day, end_day = start_us // US_PER_DAY, max(start_us // US_PER_DAY + 1, end_us // US_PER_DAY)
    days = np.arange(start_day, end_day)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday -> Monday = 0
    w = np.where(weekday < 5, 1.0, 0.4)
    day = pick(rng, days, n, w)
    tod = rng.uniform(7.0, 21.0, size=n) * US_PER_HOUR
    return np.clip(day * US_PER_DAY + tod.astype(np.int64), start_us, end_us - 1)


def _convictions(rng: np.random.Generator, rows: np.ndarray, booked_day: np.ndarray, incidence: dict) -> dict:
    """Histories for the subjects at ``rows``: per category a Bernoulli draw of having any."""
    m = len(rows)
    has = {c: rng.random(m) < incidence.get(c, 0.0) for c in CATEGORIES}
    none = ~np.logical_or.reduce([has[c] for c in CATEGORIES])
    fallback = pick(rng, np.arange(3), m, np.array([0.4, 0.3, 0.3]))  # someone with a history has some conviction
    for k, c in enumerate((OffenseCategory.DRUGS, OffenseCategory.THEFT, OffenseCategory.OTHER)):
        has[c] = has[c] | (none & (fallback == k))
    parts_row, parts_off = [], []
    for c in CATEGORIES:
        idx = np.flatnonzero(has[c])
        count = 1 + rng.poisson(0.25, size=len(idx))
        r = np.repeat(idx, count)
        offs, w = _BY_CAT[c]
        parts_row.append(r)
        parts_off.append(pick(rng, offs, len(r), w))
    local = np.concatenate(parts_row)
    off = np.concatenate(parts_off)
    k = len(local)
    years = np.minimum(rng.gamma(1.5, 4.0, size=k), 30.0)
    bday = booked_day[local]
    conv_day = bday - 1 - (years * 365.25).astype(np.int64)
    felony, misd = _OFF_LEVEL[off], _OFF_MISD[off]
    u = rng.random(k)
    sentence = np.where(
        felony,
        np.select([u < 0.55, u < 0.85], [4, 3], 2),
        np.where(misd, np.select([u < 0.35, u < 0.55], [3, 2], 1), 1),
    )
    sentence = np.where(_FEDERAL[off] & (sentence == 4), 5, sentence)
    length = np.where(
        sentence >= 4, rng.lognormal(np.log(3 * 365), 0.6, size=k),
        np.where(sentence == 3, np.where(felony, rng.lognormal(np.log(180), 0.5, size=k), rng.lognormal(np.log(30), 0.7, size=k)), 0),
    ).astype(np.int64)
    release = np.where(sentence >= 3, np.minimum(conv_day + length, bday - 1), -1)
    # Youthful-offender adjudications (not convictions under NY law, S1): extra records for some
    # subjects, so they never replace a conviction that the published figures count.
    yo_local = np.flatnonzero(rng.random(m) < 0.03)
    yo_off = rng.choice(_BY_CAT[OffenseCategory.THEFT][0], size=len(yo_local))
    yo_day = booked_day[yo_local] - 1 - (rng.uniform(8.0, 20.0, size=len(yo_local)) * 365.25).astype(np.int64)
    local, off = np.concatenate([local, yo_local]), np.concatenate([off, yo_off])
    conv_day = np.concatenate([conv_day, yo_day])
    sentence = np.concatenate([sentence, np.full(len(yo_local), 2)])
    release = np.concatenate([release, np.full(len(yo_local), -1)])
    yo = np.concatenate([np.zeros(k, dtype=bool), np.ones(len(yo_local), dtype=bool)])
    k = len(local)
    jur = np.where(_FEDERAL[off], len(CONVICTION_JURISDICTIONS) - 1, pick(rng, np.arange(len(CONVICTION_JURISDICTIONS)), k, _JUR_P))
    order = np.argsort(local, kind="stable")
    mask = np.zeros(m, dtype=np.int64)
    for c in CATEGORIES:  # a subject has a category exactly when it drew a conviction in it (YO records aside)
        mask |= has[c].astype(np.int64) << CATEGORY_BIT[c]
    return {
        "row": rows[local[order]], "offence": off[order], "day": conv_day[order], "release": release[order],
        "sentence": sentence[order], "yo": yo[order], "jur": jur[order], "mask": mask,
    }


def draw_cohort(rng: np.random.Generator, n: int, profile: Profile, first_index: int = 0, p_history: float | None = None) -> Cohort:
    """Draw ``n`` detainers for ``profile``; ``p_history`` overrides the share with a history."""
    p_hist = profile.detainers_with_history / profile.detainers if p_history is None else p_history
    has_history = rng.random(n) < p_hist
    start_us, end_us = to_us(profile.period_start), to_us(profile.period_end)
    received = _received_times(rng, n, start_us, end_us)
    booked = received - (rng.uniform(2.0, 72.0, size=n) * US_PER_HOUR).astype(np.int64)
    issued = received - (rng.uniform(0.0, 0.5, size=n) * US_PER_HOUR).astype(np.int64)
    issued = np.maximum(issued, booked)
    stay = (rng.lognormal(np.log(profile.stay_median_days), profile.stay_sigma, size=n) * US_PER_DAY).astype(np.int64)
    gone_first = rng.random(n) < profile.released_before_receipt_rate
    eligible = np.where(gone_first, booked + (received - booked) // 2, np.maximum(booked + stay, received + US_PER_HOUR))

    received_day = received // US_PER_DAY
    legacy = received_day < I247A_SINCE
    form = np.where(legacy, pick(rng, np.array([1, 2, 3, 4]), n, np.array([0.3, 0.5, 0.15, 0.05])), 0)
    box2 = (form == 0) & (rng.random(n) < profile.box2_share)
    box1 = (form == 0) & ~box2
    reentered = rng.random(n) < profile.reentered_share
    i205 = rng.random(n) < np.where(reentered, 0.7, profile.i205_share)
    admin = np.where(i205, 2, 1)
    pc = np.where(i205, 1, 0) | np.where(rng.random(n) < 0.3, 2, 0) | np.where(rng.random(n) < 0.9, 4, 0) | np.where(rng.random(n) < 0.2, 8, 0)
    pc = np.where(box1, pc, 0)
    p_jw = profile.judicial_warrant_rate * np.where(reentered & has_history, profile.judicial_warrant_reentry_boost, 1.0)
    judicial = rng.random(n) < p_jw
    judge = np.where(judicial, np.where(rng.random(n) < 0.7, 1, 2), 0)
    lifted = rng.random(n) < profile.lift_rate
    lift_us = received + ((eligible - received).clip(min=US_PER_HOUR) * rng.uniform(0.05, 0.95, size=n)).astype(np.int64)

    rows = np.flatnonzero(has_history)
    conv = _convictions(rng, rows, booked[rows] // US_PER_DAY, profile.category_incidence)
    mask = np.zeros(n, dtype=np.int64)
    mask[rows] = conv["mask"]

    n_charges = 1 + rng.poisson(0.5, size=n)
    charge_row = np.repeat(np.arange(n), n_charges)
    cats = list(_CHARGE_CAT_P)
    charge_cat = pick(rng, np.arange(len(cats)), len(charge_row), np.array(list(_CHARGE_CAT_P.values())))
    charge_off = np.empty(len(charge_row), dtype=np.int64)
    for k, c in enumerate(cats):
        sel = np.flatnonzero(charge_cat == k)
        offs, w = _BY_CAT[c]
        charge_off[sel] = pick(rng, offs, len(sel), w)
    pc_found = _OFF_LEVEL[charge_off] & (rng.random(len(charge_row)) < 0.6)

    return Cohort(
        first_index=first_index, has_history=has_history,
        facility=rng.integers(0, len(profile.facilities), size=n),
        booked_us=booked, issued_us=issued, received_us=received, eligible_us=eligible,
        form=form, box1=box1, box2=box2, pc_bases=pc, admin_warrant=admin, judge=judge,
        served=rng.random(n) < profile.served_on_subject_rate, reentered=reentered,
        tsdb=rng.random(n) < profile.tsdb_match_rate, claims_citizen=rng.random(n) < profile.claims_citizenship_rate,
        lifted=lifted, lift_us=lift_us, pickup=rng.random(n) < profile.pickup_rate, pickup_hours=rng.uniform(1.0, 30.0, size=n),
        encounter=rng.random(n) < profile.encounter_rate,
        encounter_delay_us=(rng.exponential(profile.encounter_mean_days, size=n) * US_PER_DAY).astype(np.int64),
        category_mask=mask,
        conv_row=conv["row"], conv_offence=conv["offence"], conv_day=conv["day"], conv_release_day=conv["release"],
        conv_sentence=conv["sentence"], conv_yo=conv["yo"], conv_jurisdiction=conv["jur"],
        charge_row=charge_row, charge_offence=charge_off, charge_pc_found=pc_found,
    )
