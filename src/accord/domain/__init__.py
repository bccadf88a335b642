"""The vocabulary of Accord: strict, frozen pydantic models using DOMAIN.md's terms."""

from .agency import Agency, AgencyConfig, Agreement, Certification
from .base import PERSONAL, DomainModel
from .criminal import Charge, Conviction, Reduction
from .custody import CustodyRecord, PostReleaseEncounter, Release
from .detainer import AdministrativeWarrant, DetainerLifted, DetainerRequest, JudicialWarrant
from .enums import *  # noqa: F403
from .events import PAYLOAD_MODELS, EventKind
from .person import Person, StatusProof
from .records import LegalProcess, Notice, NoticeSent, RecordRequest

__all__ = [
    "PERSONAL", "DomainModel", "Agency", "AgencyConfig", "Agreement", "Certification", "Charge", "Conviction",
    "Reduction", "CustodyRecord", "PostReleaseEncounter", "Release", "AdministrativeWarrant",
    "DetainerLifted", "DetainerRequest", "JudicialWarrant", "PAYLOAD_MODELS", "EventKind",
    "Person", "StatusProof", "LegalProcess", "Notice", "NoticeSent", "RecordRequest",
]
