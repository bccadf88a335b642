"""The flat per-detainer facts every pack's rules read: one column each, stable names.

A fact is what the law asks about a case (was a judicial warrant presented? when
was the last violent-or-serious conviction?), flattened from the domain objects so
that one case (``decide``) and a hundred million rows (``decide_batch``) are read
the same way. ``accord.synth`` writes exactly these columns to Parquet and
``accord.reports.schema`` appends them to the ``detainers`` history table, so the
names below are a contract: add, never rename.

Null means *unknown* and makes a rule that needs it ``insufficient_facts``; it is
never read as false. Conviction-derived facts come in pairs: ``*_ever`` (is there
such a conviction at all) and a date from which a look-back counts, so that "no
such conviction" (``ever`` false, date null) differs from "not classified yet"
(``ever`` null).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from accord.domain.enums import Action, Disposition, OffenseLevel, ReductionKind

if TYPE_CHECKING:  # the case model (pydantic) is needed only by facts_from_case's callers
    from .case import DetainerCase

#: Fact types by name; :attr:`Fact.dtype` turns one into its polars dtype on first use, so that
#: deciding one case (``accord decide``) never imports polars (issue #16: fast start).
KINDS = ("String", "Boolean", "Date", "Int64", "Float64", "UtcDatetime")


@dataclass(frozen=True)
class Fact:
    name: str
    kind: str
    meaning: str
    derived_from: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fact {self.name}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")

    @property
    def dtype(self) -> Any:
        """The polars dtype of this fact's column."""
        import polars as pl

        if self.kind == "UtcDatetime":
            return pl.Datetime("us", "UTC")
        return getattr(pl, self.kind)()


FACTS: tuple[Fact, ...] = (
    # --- the detainer request -------------------------------------------------------------
    Fact("form", "String", "Detainer form: I-247A, I-247, I-247D, I-247N or I-247X (DOMAIN.md §6.2)", "detainer.form"),
    Fact("issuing_component", "String", "Who issued it: ICE, CBP or other (Tex. art. 2.251 covers ICE)", "detainer.issuing_component"),
    Fact("requests_hold", "Boolean", "The form asks to hold past release (I-247A box 1; I-247/I-247D)", "detainer.requested_actions"),
    Fact("requests_notify", "Boolean", "The form asks to be notified of release (I-247A box 1 or 2; I-247N)", "detainer.requested_actions"),
    Fact("requests_transfer", "Boolean", "The form asks for custody at release (I-247A box 1 or 2; I-247X)", "detainer.requested_actions"),
    Fact("issued_on", "Date", "Day the detainer was issued (Eastern time; accord.domain.forms.ISSUE_DAY_ZONE): a form is judged by this day (DOMAIN.md §6.2)", "detainer.issued_at"),
    Fact("form_in_use_on_issue", "Boolean", "The form was still being issued on issued_on (catalogue accord.domain.forms: I-247, I-247D, I-247N and I-247X rescinded 2 Apr 2017, earlier ones remain active; ICE Policy 10074.2)", "detainer.form, detainer.issued_at"),
    Fact("received_at", "UtcDatetime", "When the custodian received the detainer; dates the law version when as_of is per row", "detainer.received_at"),
    Fact("release_eligible_at", "UtcDatetime", "When the person would otherwise be released; the 48-hour clock starts here (8 CFR 287.7(d))", "custody.release_eligible_at"),
    Fact("arrested_at", "UtcDatetime", "The instant arrest (earliest charge), from which NYC look-backs count back", "custody.charges[].arrested_at, else custody.booked_at"),
    Fact("judicial_warrant_judge_kind", "String", "Judge who signed an accompanying judicial warrant or probable-cause finding: article_iii, federal_magistrate, state, immigration_judge, or 'none' when none was presented", "detainer.judicial_warrant.judge_kind"),
    Fact("judicial_warrant_basis", "String", "What the judicial warrant is for: federal_criminal_immigration, federal_criminal_other, state_criminal, civil, or 'none'", "detainer.judicial_warrant.basis"),
    Fact("judicial_pc_determination_only", "Boolean", "The judicial paper is a probable-cause determination, not a warrant (CA §7284.4(i)); false when none", "detainer.judicial_warrant.probable_cause_determination_only"),
    Fact("administrative_warrant_form", "String", "Accompanying ICE administrative warrant: I-200, I-205 or 'none' (signed by an officer, not a judge)", "detainer.administrative_warrant.form"),
    Fact("served_on_subject", "Boolean", "A copy of the detainer was served on the person (I-247A guidance: needed to take effect)", "detainer.served_on_subject"),
    Fact("outstanding_federal_felony_warrant", "Boolean", "ICE identifies an outstanding federal felony arrest warrant (CA §7282.5(a)(5))", "detainer.outstanding_federal_felony_warrant"),
    # --- the person ---------------------------------------------------------------------------
    Fact("terrorist_screening_match", "Boolean", "Possible match in the terrorist screening database (NYC §9-131, §14-154)", "person.terrorist_screening_possible_match"),
    Fact("previously_removed_and_reentered", "Boolean", "Previously deported and illegally re-entered (NYPD §14-154 48-hour exception)", "person.previously_removed_and_reentered"),
    Fact("status_proof_presented", "Boolean", "Proof of citizenship or lawful status presented by the decision date (Tex. art. 2.251(b))", "person.status_proofs[].presented_on"),
    Fact("ca_sex_or_arson_registrant", "Boolean", "Current registrant on the California Sex and Arson Registry (§7282.5(a)(4))", "person.ca_sex_or_arson_registrant"),
    # --- the present charges ------------------------------------------------------------------
    Fact("magistrate_probable_cause_current_charge", "Boolean", "A magistrate found probable cause (PC §872) on a current serious/violent or state-prison felony charge (CA §7282.5(b))", "custody.charges[].magistrate_probable_cause_found, serious_or_violent_felony, ca_state_prison_felony"),
    # --- criminal history (convictions; YO/JD adjudications, dismissals and vacated ones excluded) ---
    Fact("felony_conviction_ever", "Boolean", "Any felony conviction (NYC pre-2014 'covered crime' model)", "custody.convictions[].level"),
    Fact("nyc_violent_or_serious_ever", "Boolean", "Any conviction of a NYC 'violent or serious crime' (§9-131(a)(7), §14-154(a)(6))", "custody.convictions[].nyc_violent_or_serious"),
    Fact("nyc_vs_lookback_from", "Date", "Latest date from which the NYC 5-year look-back counts: release from incarceration for that crime, else conviction date (§9-131; S4)", "custody.convictions[].incarceration_end / convicted_on"),
    Fact("nyc_covered_crime_ever", "Boolean", "Any conviction of a pre-2014 NYC 'covered crime' (S1)", "custody.convictions[].nyc_covered_crime"),
    Fact("nyc_covered_misdemeanor_ever", "Boolean", "Any misdemeanor conviction of a pre-2014 'covered crime'", "custody.convictions[].nyc_covered_crime, level"),
    Fact("nyc_covered_misdemeanor_latest_on", "Date", "Date of the latest covered-misdemeanor conviction (pre-2014 10-year look-back)", "custody.convictions[].convicted_on"),
    Fact("ca_serious_or_violent_felony_ever", "Boolean", "Convicted of a serious or violent felony, PC §1192.7(c)/§667.5(c) (§7282.5(a)(1))", "custody.convictions[].ca_serious_or_violent_felony"),
    Fact("ca_state_prison_felony_ever", "Boolean", "Convicted of a felony punishable by state prison (§7282.5(a)(2))", "custody.convictions[].ca_state_prison_felony"),
    Fact("ca_list_felony_ever", "Boolean", "Felony conviction for an offence in §7282.5(a)(3) list A-AE", "custody.convictions[].ca_list_code, level"),
    Fact("ca_list_felony_latest_on", "Date", "Date of the latest such felony conviction (15-year look-back)", "custody.convictions[].convicted_on"),
    Fact("ca_list_wobbler_misdemeanor_ever", "Boolean", "Misdemeanor conviction for a wobbler in list A-AE (not G, felony DUI only)", "custody.convictions[].ca_list_code, wobbler, level"),
    Fact("ca_list_wobbler_misdemeanor_latest_on", "Date", "Date of the latest such misdemeanor conviction (5-year look-back)", "custody.convictions[].convicted_on"),
    Fact("ca_prop47_reduced", "Boolean", "A conviction was reduced to a misdemeanor under Prop 47 (§7282.5(a)(6))", "custody.convictions[].reductions"),
    Fact("federal_aggravated_felony_ever", "Boolean", "Convicted of a federal crime meeting INA §101(a)(43)(A)-(P) (§7282.5(a)(5))", "custody.convictions[].federal_aggravated_felony"),
    # --- the receiving agency -----------------------------------------------------------------
    Fact("reimbursement_agreement_in_force", "Boolean", "A written agreement reimbursing all costs of complying is in force (Cook County §46-37(a))", "receiving_agency.agreements[kind=cost_reimbursement]"),
)

def __getattr__(name: str) -> Any:
    # PEP 562: FACT_SCHEMA (name -> polars dtype) and UTC_TS are built on first use, with polars.
    if name == "FACT_SCHEMA":
        schema = {f.name: f.dtype for f in FACTS}
        globals()["FACT_SCHEMA"] = schema
        return schema
    if name == "UTC_TS":
        import polars as pl

        return pl.Datetime("us", "UTC")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FACT_NAMES: tuple[str, ...] = tuple(f.name for f in FACTS)
#: name -> kind (see KINDS), for code that needs the names and types but not polars.
FACT_KINDS: dict[str, str] = {f.name: f.kind for f in FACTS}

_NONE = "none"


def facts_from_case(case: DetainerCase, as_of: date) -> dict[str, Any]:
    """Flatten a case into the FACTS dict (``as_of`` decides which reductions and proofs count).

    A conviction reduced or vacated after ``as_of`` still counts as it stood on ``as_of``.
    """
    det, custody, person = case.detainer, case.custody, case.person
    acts = det.requested_actions
    jw, aw = det.judicial_warrant, det.administrative_warrant
    arrests = [c.arrested_at for c in custody.charges]
    convictions = [c for c in custody.convictions if _counts_as_conviction(c, as_of)]
    facts: dict[str, Any] = {
        "form": det.form.value,
        "issuing_component": det.issuing_component.value,
        "requests_hold": Action.HOLD_PAST_RELEASE in acts,
        "requests_notify": Action.NOTIFY_RELEASE in acts,
        "requests_transfer": Action.TRANSFER_AT_RELEASE in acts,
        "issued_on": det.issued_on,
        "form_in_use_on_issue": det.form_in_use_on_issue,
        "received_at": det.received_at,
        "release_eligible_at": custody.release_eligible_at,
        "arrested_at": min(arrests) if arrests else custody.booked_at,
        "judicial_warrant_judge_kind": jw.judge_kind.value if jw else _NONE,
        "judicial_warrant_basis": jw.basis.value if jw else _NONE,
        "judicial_pc_determination_only": jw.probable_cause_determination_only if jw else False,
        "administrative_warrant_form": aw.form.value if aw else _NONE,
        "served_on_subject": det.served_on_subject,
        "outstanding_federal_felony_warrant": det.outstanding_federal_felony_warrant,
        "terrorist_screening_match": person.terrorist_screening_possible_match,
        "previously_removed_and_reentered": person.previously_removed_and_reentered,
        "status_proof_presented": any(p.presented_on <= as_of for p in person.status_proofs),
        "ca_sex_or_arson_registrant": person.ca_sex_or_arson_registrant,
        "magistrate_probable_cause_current_charge": _kleene_any(
            _and3(ch.magistrate_probable_cause_found, _or3(ch.serious_or_violent_felony, ch.ca_state_prison_felony))
            for ch in custody.charges
        ),
        "felony_conviction_ever": any(c.effective_level(as_of) is OffenseLevel.FELONY for c in convictions),
        "reimbursement_agreement_in_force": any(
            a.kind == "cost_reimbursement" and a.reimburses_all_costs and a.in_force(det.received_at.date())
            for a in case.receiving_agency.agreements
        ),
    }
    # NYC: 5-year look-back counted from release from incarceration for that crime (S4, N5).
    nyc = [(c.nyc_violent_or_serious, c.incarceration_end or c.convicted_on) for c in convictions]
    facts["nyc_violent_or_serious_ever"], facts["nyc_vs_lookback_from"] = _ever_and_latest(nyc)
    covered = [(c.nyc_covered_crime, c.convicted_on) for c in convictions]
    facts["nyc_covered_crime_ever"], _ = _ever_and_latest(covered)
    covered_misd = [
        (c.nyc_covered_crime, c.convicted_on) for c in convictions if c.effective_level(as_of) is OffenseLevel.MISDEMEANOR
    ]
    facts["nyc_covered_misdemeanor_ever"], facts["nyc_covered_misdemeanor_latest_on"] = _ever_and_latest(covered_misd)
    # California: Prop 47-reduced convictions are governed by §7282.5(a)(6), never a basis.
    ca = [c for c in convictions if not _prop47(c, as_of)]
    facts["ca_prop47_reduced"] = any(_prop47(c, as_of) for c in convictions)
    facts["ca_serious_or_violent_felony_ever"], _ = _ever_and_latest([(c.ca_serious_or_violent_felony, c.convicted_on) for c in ca])
    facts["ca_state_prison_felony_ever"], _ = _ever_and_latest([(c.ca_state_prison_felony, c.convicted_on) for c in ca])
    facts["ca_list_felony_ever"], facts["ca_list_felony_latest_on"] = _ever_and_latest(
        [(c.ca_list_code is not None, c.convicted_on) for c in ca if c.effective_level(as_of) is OffenseLevel.FELONY]
    )
    facts["ca_list_wobbler_misdemeanor_ever"], facts["ca_list_wobbler_misdemeanor_latest_on"] = _ever_and_latest(
        [
            (c.ca_list_code is not None and c.ca_list_code != "G", c.convicted_on)
            for c in ca
            if c.wobbler and c.effective_level(as_of) is OffenseLevel.MISDEMEANOR
        ]
    )
    facts["federal_aggravated_felony_ever"], _ = _ever_and_latest([(c.federal_aggravated_felony, c.convicted_on) for c in convictions])
    return facts


def _counts_as_conviction(c: Any, as_of: date) -> bool:
    """YO/JD adjudications are not convictions under NY law (S1); vacated ones no longer count."""
    if c.disposition is not Disposition.CONVICTION or c.convicted_on > as_of:
        return False
    return not any(r.kind is ReductionKind.VACATED and r.on <= as_of for r in c.reductions)


def _prop47(c: Any, as_of: date) -> bool:
    return any(r.kind is ReductionKind.PROP_47 and r.on <= as_of for r in c.reductions)


def _ever_and_latest(items: list[tuple[bool | None, date]]) -> tuple[bool | None, date | None]:
    """(any qualifying?, latest qualifying date) with unknown classifications kept unknown.

    The date is null when no conviction qualifies, or when an unclassified conviction is
    later than every qualifying one (it might move the look-back).
    """
    known = [d for flag, d in items if flag is True]
    unknown = [d for flag, d in items if flag is None]
    ever: bool | None = True if known else (None if unknown else False)
    latest = max(known) if known else None
    if latest is not None and unknown and max(unknown) > latest:
        latest = None
    return ever, latest


def _and3(a: bool | None, b: bool | None) -> bool | None:
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def _or3(a: bool | None, b: bool | None) -> bool | None:
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def _kleene_any(values: Any) -> bool | None:
    out: bool | None = False
    for v in values:
        out = _or3(out, v)
    return out


def empty_frame() -> Any:
    """A zero-row frame with the FACTS schema (what ``decide_batch`` expects)."""
    import polars as pl

    return pl.DataFrame(schema=__getattr__("FACT_SCHEMA"))


def frame_from_facts(rows: list[dict[str, Any]]) -> Any:
    """Build a FACTS frame from fact dicts (e.g. ``facts_from_case`` output)."""
    import polars as pl

    return pl.DataFrame(rows, schema=__getattr__("FACT_SCHEMA"))


__all__ = ["FACTS", "FACT_KINDS", "FACT_SCHEMA", "FACT_NAMES", "Fact", "facts_from_case", "empty_frame", "frame_from_facts"]
