"""Event kinds: everything that happens is one of these in the ledger (DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from .agency import Agency, AgencyConfig
from .clocks import DeliveryFailed, HoldLimitReached, HoldWarning, NoticeOverdue
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
    HOLD_WARNING = "hold.warning"  # written by accord.clocks when a hold nears its limit
    HOLD_LIMIT_REACHED = "hold.limit_reached"  # ... when it reaches it (detainer -> expired)
    NOTICE_OVERDUE = "notice.overdue"  # ... when a notice is past due and not sent
    DELIVERY_FAILED = "delivery.failed"  # ... when a message to an agency is given up (dead letter)


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

#: The model of each kind the clocks write (not ingestable: only the scheduler and dispatcher write them).
CLOCK_PAYLOAD_MODELS: dict[EventKind, type[BaseModel]] = {
    EventKind.HOLD_WARNING: HoldWarning,
    EventKind.HOLD_LIMIT_REACHED: HoldLimitReached,
    EventKind.NOTICE_OVERDUE: NoticeOverdue,
    EventKind.DELIVERY_FAILED: DeliveryFailed,
}
