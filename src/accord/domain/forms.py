"""The catalogue of ICE detainer forms and the days each was in use (DOMAIN.md §6.2, cited).

ICE Policy 10074.2 (24 Mar 2017, effective 2 Apr 2017) [F5] made the I-247A the only
detainer form issued from 2 Apr 2017 [F3, F4]; the I-247D, I-247N and I-247X were rescinded
then, and those issued earlier "remain active" [F4, F6, F7]. So a form's validity is judged
on the day it was **issued**, not the day it was received or decided:

>>> from datetime import date
>>> form_in_use("I-247D", date(2017, 4, 1)), form_in_use("I-247D", date(2017, 4, 2))
(True, False)
>>> form_in_use("I-247A", date(2024, 3, 4))
True

What DOMAIN.md does not say is not encoded: no first day of use is recorded for any form
(the I-247D/N/X date from 2015 under PEP and the legacy I-247 is older, but DOMAIN.md gives
no day), so a form is taken to be in use on every day before its rescission.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from accord.errors import InputError

from .enums import DetainerForm

#: ICE Policy 10074.2 takes effect: from this day the I-247A is the only detainer form issued.
RESCISSION_DAY = date(2017, 4, 2)
CITATION = "ICE Policy 10074.2 (detainer forms)"
#: The zone in which the day of issue is counted. DOMAIN.md names none; Eastern time is where ICE
#: headquarters issued Policy 10074.2 (an assumption, unverified). One zone for every request, so the
#: day does not depend on the offset a timestamp happens to be written in.
ISSUE_DAY_ZONE = ZoneInfo("America/New_York")


@dataclass(frozen=True)
class FormSpec:
    form: DetainerForm
    title: str
    in_use_from: date | None  # None: DOMAIN.md records no first day
    in_use_until: date | None  # first day the form was no longer issued; None: still in use
    citation: str
    sources: tuple[str, ...]
    note: str = ""

    def in_use(self, on: date) -> bool:
        return (self.in_use_from is None or on >= self.in_use_from) and (self.in_use_until is None or on < self.in_use_until)


CATALOGUE: dict[DetainerForm, FormSpec] = {
    f.form: f
    for f in (
        FormSpec(DetainerForm.I_247A, "Immigration Detainer - Notice of Action (02/17)", None, None, CITATION, ("F3", "F4", "F5"),
                 "The only detainer form issued since 2 Apr 2017. DOMAIN.md gives no first day of use before then (unverified)."),
        FormSpec(DetainerForm.I_247D, "Request for Voluntary Action (2015-2017, PEP)", None, RESCISSION_DAY, CITATION, ("F4", "F5", "F6"),
                 "Rescinded 2 Apr 2017; those issued earlier remain active. First day of use in 2015 not given (unverified)."),
        FormSpec(DetainerForm.I_247N, "Request for Voluntary Notification of Release of Suspected Priority Alien", None, RESCISSION_DAY,
                 CITATION, ("F4", "F5", "F7"), "Rescinded 2 Apr 2017; notification only."),
        FormSpec(DetainerForm.I_247X, "Request for Voluntary Transfer", None, RESCISSION_DAY, CITATION, ("F4", "F5"),
                 "Rescinded 2 Apr 2017."),
        FormSpec(DetainerForm.I_247, "Immigration Detainer - Notice of Action (legacy, pre-2015)", None, RESCISSION_DAY, CITATION, ("F2", "F4", "F5"),
                 "A legacy form: DOMAIN.md says the legacy forms were rescinded by 2 Apr 2017 at the latest; the day the I-247D "
                 "family replaced it (2015) is not given, so an I-247 issued before 2 Apr 2017 is taken to be in use (unverified)."),
    )
}


def issue_day(issued_at: datetime) -> date:
    """The day a request was issued (counted in :data:`ISSUE_DAY_ZONE`).

    >>> from datetime import timezone
    >>> issue_day(datetime(2017, 4, 2, 3, 0, tzinfo=timezone.utc))  # still 1 April in Washington
    datetime.date(2017, 4, 1)
    """
    return issued_at.astimezone(ISSUE_DAY_ZONE).date()


def form_spec(name: str | DetainerForm) -> FormSpec:
    """The catalogue entry for a form name; an unknown name is an InputError naming the field ``form``."""
    try:
        return CATALOGUE[DetainerForm(name)]
    except ValueError:
        known = ", ".join(f.value for f in CATALOGUE)
        raise InputError(f"unknown detainer form {name!r}; the catalogue knows {known}", field="form") from None


def form_in_use(name: str | DetainerForm, on: date) -> bool:
    """Was the form still being issued on ``on`` (the day the request was issued)?"""
    return form_spec(name).in_use(on)
