"""What a synthetic jurisdiction-year looks like: volumes, rates and the assumptions behind them.

Every number that is not a published figure is a named parameter with a note saying
so; calibration (``accord.synth.calibration``) checks the published ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from accord.domain.enums import OffenseCategory as C


@dataclass(frozen=True)
class Profile:
    """Parameters of one synthetic jurisdiction-period."""

    jurisdiction: str
    receiving_agency_id: str
    receiving_agency_name: str
    facilities: tuple[str, ...]
    issuing_office: str
    period_start: datetime
    period_end: datetime
    #: Detainers whose subject has a criminal history (a conviction on record).
    detainers_with_history: int
    #: Detainers on subjects with no conviction (charge only). No NYC figure was published;
    #: nationally 47.7% had none in FY2012-13 (DOMAIN.md §7, D7). Assumption, not a figure.
    detainers_without_history: int
    #: Share of subjects-with-history whose history has >= 1 conviction in each category.
    category_incidence: dict[C, float]
    #: Share of detainers accompanied by a judicial warrant (federal criminal immigration
    #: warrant, e.g. 8 USC 1326). Rare in practice; tuned so the NYC pack honours ~25
    #: (mean over 12 seeds with ``accord.synth.calibration.mean_figures``). Assumption.
    judicial_warrant_rate: float
    #: Judicial warrants are sought mostly for people previously removed who re-entered.
    judicial_warrant_reentry_boost: float = 12.0
    i205_share: float = 0.2  # I-205 (removal) vs I-200 (arrest) administrative warrants
    box2_share: float = 0.03  # I-247A box 2 (resume custody) rather than box 1
    reentered_share: float = 0.12  # previously removed and re-entered (NYPD §14-154 fact)
    tsdb_match_rate: float = 0.0003  # possible terrorist-screening-database match
    claims_citizenship_rate: float = 0.01
    served_on_subject_rate: float = 0.8
    lift_rate: float = 0.08  # ICE cancels the detainer before release
    released_before_receipt_rate: float = 0.04  # detainer arrives after the person left
    pickup_rate: float = 0.95  # ICE assumes custody within the hold limit when allowed
    #: Median days from booking to release eligibility (lognormal). NYC DOC pre-trial stays
    #: have a long tail; assumption.
    stay_median_days: float = 9.0
    stay_sigma: float = 1.4
    #: Post-release encounters: chance that ICE arrests a person released without a
    #: transfer, and the mean days until it does (DOMAIN.md §10: 112 in three weeks).
    encounter_rate: float = 0.32
    encounter_mean_days: float = 60.0
    encounter_window_days: int = 21
    #: Record requests to the state DMV during the period (Green Light stream).
    record_requests: int = 2000
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def detainers(self) -> int:
        return self.detainers_with_history + self.detainers_without_history

    def scaled(self, scale: float) -> "Profile":
        """The same jurisdiction with volumes multiplied by ``scale`` (for quick runs)."""
        return replace(
            self,
            detainers_with_history=max(1, round(self.detainers_with_history * scale)),
            detainers_without_history=round(self.detainers_without_history * scale),
            record_requests=max(1, round(self.record_requests * scale)),
        )


_HISTORY = 7526  # DOMAIN.md §10
#: DOMAIN.md §10 category counts divided by the 7,526 subjects with histories.
_INCIDENCE = {
    C.ASSAULT: 3500 / _HISTORY,
    C.DUI: 1500 / _HISTORY,
    C.SEX_CRIME: 1000 / _HISTORY,
    C.WEAPONS: 1000 / _HISTORY,
    C.ROBBERY: 500 / _HISTORY,
    C.HOMICIDE: 200 / _HISTORY,
    # Not published: how common drug, theft and other convictions are. Assumptions.
    C.DRUGS: 0.30,
    C.THEFT: 0.25,
    C.OTHER: 0.30,
}

#: One New York City year ending on the date of the ICE letter (13 Feb 2020, DOMAIN.md §10).
#: The letter gives no period; "one year" ending on its date is an assumption, chosen so the
#: three-week post-release window falls after the Bail Reform Act took effect (1 Jan 2020).
NYC_2020 = Profile(
    jurisdiction="US-NY-NYC",
    receiving_agency_id="nyc-doc",
    receiving_agency_name="New York City Department of Correction",
    facilities=("Rikers Island - AMKC", "Rikers Island - GRVC", "Rikers Island - RNDC", "Vernon C. Bain Center", "Manhattan Detention Complex"),
    issuing_office="New York Field Office (AOR NYC)",
    period_start=datetime(2019, 2, 13, tzinfo=UTC),
    period_end=datetime(2020, 2, 13, tzinfo=UTC),
    detainers_with_history=_HISTORY,
    detainers_without_history=1800,
    category_incidence=_INCIDENCE,
    judicial_warrant_rate=0.006,
    encounter_rate=0.216,
    notes={
        "period": "one year ending 13 Feb 2020 (letter date); the letter states no period",
        "detainers_without_history": "assumption: no NYC figure published",
        "judicial_warrant_rate": "tuned so the NYC DOC pack honours ~25 detainers a year on average",
        "encounter_rate": "tuned so ~112 released people are arrested by ICE in the last three weeks",
    },
)
