"""Event kinds: everything that happens is one of these in the ledger (DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from .agency import Agency, AgencyConfig
from .custody import CustodyRecord, PostReleaseEncounter, Release
from .detainer import DetainerLifted, DetainerRequest
from .person import Person
from .records import Notice, NoticeSent, RecordRequest


class EventKind(StrEnum):
    AGENCY_REGISTERED = "agency.registered"
    AGENCY_CONFIGURED = "agency.configured"
    PERSON_REGISTERED = "person.registered"
    CUSTODY_BOOKED = "custody.booked"
    DETAINER_RECEIVED = "detainer.received"
    DETAINER_LIFTED = "detainer.lifted"
    DECISION_MADE = "decision.made"  # payload defined by accord.law
    CUSTODY_RELEASED = "custody.released"
    ENCOUNTER_POST_RELEASE = "encounter.post_release"
    RECORD_REQUESTED = "record.requested"
    ACCESS_DECIDED = "access.decided"  # payload defined by accord.access
    NOTICE_DUE = "notice.due"
    NOTICE_SENT = "notice.sent"
    CORRECTION = "correction"
    # imported public data (payloads defined by accord.ddp.events; not ingestable, written by `accord import ddp`)
    IMPORT_DDP_RELEASE = "import.ddp.release"
    IMPORT_DDP_DETAINER = "import.ddp.detainer"
    IMPORT_DDP_REJECTED = "import.ddp.rejected"


#: The domain model each ingestable event kind carries (decisions are written by their engines).
PAYLOAD_MODELS: dict[EventKind, type[BaseModel]] = {
    EventKind.AGENCY_REGISTERED: Agency,
    EventKind.AGENCY_CONFIGURED: AgencyConfig,
    EventKind.PERSON_REGISTERED: Person,
    EventKind.CUSTODY_BOOKED: CustodyRecord,
    EventKind.DETAINER_RECEIVED: DetainerRequest,
    EventKind.DETAINER_LIFTED: DetainerLifted,
    EventKind.CUSTODY_RELEASED: Release,
    EventKind.ENCOUNTER_POST_RELEASE: PostReleaseEncounter,
    EventKind.RECORD_REQUESTED: RecordRequest,
    EventKind.NOTICE_DUE: Notice,
    EventKind.NOTICE_SENT: NoticeSent,
}
