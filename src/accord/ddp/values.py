"""What the release's category values mean, where that can be recognised without guessing.

Documented values (DOMAIN.md §7 [D15], DDP's field notes [D10]) are matched exactly, after case and
spacing are ignored. ``Detainer Type`` and ``Detainer Lift Reason`` are *not* documented: DDP
describes them only as "whether ICE requested continued detention vs notification of release;
reliability uncertain" and "reason detainer was lifted (e.g., booked into immigration detention vs
declined)" [D10]. For those, only wording that can mean one thing is recognised; anything else
keeps its raw text, has no code, and is counted as an unknown value. The recognisers are plain
functions of one value: the mapping applies them to each distinct value of a batch only.
"""

from __future__ import annotations

import re
from enum import StrEnum



class Criminality(StrEnum):
    """``Detainer (Prepared) Criminality``: ICE's class of the person when the detainer was prepared [D10, D15]."""

    CONVICTED = "convicted"  # "1 Convicted Criminal"
    PENDING_CHARGES = "pending_charges"  # "2 Pending Criminal Charges": charge-only, no conviction [D10]
    OTHER_IMMIGRATION_VIOLATOR = "other_immigration_violator"  # "3 Other Immigration Violator": neither [D10]


class DetainerType(StrEnum):
    """``Detainer Type``: what ICE asked for [D10], where the wording says it."""

    HOLD = "hold"  # keep the person past release ("continued detention")
    NOTIFICATION = "notification"  # tell ICE of the release only


class LiftOutcome(StrEnum):
    """``Detainer Lift Reason``, where the wording says what happened [D10]."""

    BOOKED_INTO_ICE = "booked_into_ice"  # the person was booked into immigration detention
    DECLINED = "declined"  # the receiving agency declined the detainer


def norm(text: str) -> str:
    """Lower case, one space between words, no punctuation: the key values are matched on.

    >>> norm("  1 Convicted  Criminal ")
    '1 convicted criminal'
    """
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


CRIMINALITY_VALUES: dict[str, Criminality] = {
    norm("1 Convicted Criminal"): Criminality.CONVICTED,
    norm("2 Pending Criminal Charges"): Criminality.PENDING_CHARGES,
    norm("3 Other Immigration Violator"): Criminality.OTHER_IMMIGRATION_VIOLATOR,
    norm("Convicted Criminal"): Criminality.CONVICTED,
    norm("Pending Criminal Charges"): Criminality.PENDING_CHARGES,
    norm("Other Immigration Violator"): Criminality.OTHER_IMMIGRATION_VIOLATOR,
}

#: Whole words only: "detainer" alone says nothing about a hold; "hold" or "detention" does.
_HOLD = r"\b(hold|detention|detain)\b"
_NOTIFY = r"\b(notification|notify|notice of release)\b"
#: "booked into ..." plus a word naming immigration custody; "declined" without naming ICE as the one declining.
_BOOKED = r"\bbooked\b.*\b(ice|immigration|dhs|ero|detention)\b"
_DECLINED = r"\bdeclin(e|ed|es|ing|ation)\b"
_BY_ICE = r"\b(ice|dhs|ero|immigration)\b"

US_STATES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "virgin islands": "VI", "us virgin islands": "VI", "northern mariana islands": "MP", "american samoa": "AS",
}
#: normalised state name or USPS code -> USPS code
STATE_KEYS: dict[str, str] = {**US_STATES, **{code.lower(): code for code in US_STATES.values()}}


def criminality(text: str) -> Criminality | None:
    """>>> criminality("1 Convicted Criminal"), criminality("4 Something Else")
    (<Criminality.CONVICTED: 'convicted'>, None)
    """
    return CRIMINALITY_VALUES.get(norm(text))


def detainer_type(text: str) -> DetainerType | None:
    """Recognised only when the words name one request and not the other.

    >>> detainer_type("Hold"), detainer_type("Notification of release"), detainer_type("Detainer"), detainer_type("Hold / Notify")
    (<DetainerType.HOLD: 'hold'>, <DetainerType.NOTIFICATION: 'notification'>, None, None)
    """
    t = norm(text)
    hold, notify = re.search(_HOLD, t) is not None, re.search(_NOTIFY, t) is not None
    if hold == notify:
        return None
    return DetainerType.HOLD if hold else DetainerType.NOTIFICATION


def lift_outcome(text: str) -> LiftOutcome | None:
    """>>> [lift_outcome(t) for t in ("Booked into ICE detention", "Detainer declined by LEA", "ICE declined", "Released")]
    [<LiftOutcome.BOOKED_INTO_ICE: 'booked_into_ice'>, <LiftOutcome.DECLINED: 'declined'>, None, None]
    """
    t = norm(text)
    booked, declin = re.search(_BOOKED, t) is not None, re.search(_DECLINED, t) is not None
    if booked and not declin:
        return LiftOutcome.BOOKED_INTO_ICE
    if declin and not booked and re.search(_BY_ICE, t) is None:
        return LiftOutcome.DECLINED
    return None


def state_code(text: str) -> str | None:
    """>>> state_code("ny"), state_code("New York"), state_code("Ontario")
    ('NY', 'NY', None)
    """
    return STATE_KEYS.get(norm(text))


#: Descriptive offence categories (DOMAIN.md §10's figures) recognised in the MSC's NCIC-style text
#: [D10]. Word stems, whole words; a DUI naming drugs is a DUI, a sexual assault a sex crime.
#: Not a legal classification: no pack reads these (packs read the conviction facts, which the
#: release cannot give), only reports that count by category.
_CATEGORY_WORDS: tuple[tuple[str, str], ...] = (
    ("dui", r"\b(dui|dwi|driving under (the )?influence|driving while (intoxicated|impaired))\b"),
    ("sex_crime", r"\b(sex|sexual|rape|sodomy|lewd|incest|indecen\w*)\b"),
    ("homicide", r"\b(homicide|murder|manslaughter)\b"),
    ("robbery", r"\brobbery\b"),
    ("weapons", r"\b(weapon|weapons|firearm|firearms)\b"),
    ("drugs", r"\b(drug|drugs|narcotic\w*|marijuana|cocaine|heroin|\w*amphetamine|opium|controlled substance)\b"),
    ("theft", r"\b(larceny|theft|shoplift\w*|stolen)\b"),
    ("assault", r"\b(assault|battery)\b"),
)


def msc_categories(text: str) -> tuple[str, ...]:
    """The offence categories an MSC's text names (empty when it names none of them).

    >>> msc_categories("Driving Under Influence Drugs"), msc_categories("Sexual Assault"), msc_categories("Assault")
    (('dui',), ('sex_crime',), ('assault',))
    >>> msc_categories("Traffic Offense")
    ()
    """
    t = norm(text)
    found = [name for name, words in _CATEGORY_WORDS if re.search(words, t)]
    if "dui" in found and "drugs" in found:
        found.remove("drugs")
    if "sex_crime" in found and "assault" in found:
        found.remove("assault")
    order = ("assault", "dui", "sex_crime", "weapons", "robbery", "homicide", "drugs", "theft")
    return tuple(sorted(found, key=order.index))
