"""The vocabulary of Accord: strict, frozen pydantic models using DOMAIN.md's terms.

Names are loaded on first use (PEP 562): a command that needs only the enums (``accord packs
list``) does not pay for building every pydantic model (issue #16: fast start).
"""

from __future__ import annotations

import importlib
from typing import Any

from .enums import *  # noqa: F403

_WHERE = {
    "Agency": "agency", "AgencyConfig": "agency", "Agreement": "agency", "Certification": "agency",
    "PERSONAL": "base", "DomainModel": "base",
    "Charge": "criminal", "Conviction": "criminal", "Reduction": "criminal",
    "CustodyRecord": "custody", "PostReleaseEncounter": "custody", "Release": "custody",
    "AdministrativeWarrant": "detainer", "DetainerLifted": "detainer", "DetainerRequest": "detainer",
    "JudicialWarrant": "detainer",
    "PAYLOAD_MODELS": "events", "EventKind": "events",
    "Person": "person", "StatusProof": "person",
    "LegalProcess": "records", "Notice": "records", "NoticeSent": "records", "RecordRequest": "records",
}

__all__ = list(_WHERE)  # noqa: PLE0605 (the enums are exported by their own module's star)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
