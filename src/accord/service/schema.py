"""The service's read model: tables of current state, projected from the ledger (never the source of truth).

Every row here can be rebuilt from the events (``accord projections rebuild``); ``proj_position``
says up to which event they are. Reads answer from these tables so they never scan the ledger.
Times are stored as ISO 8601 UTC text with a ``Z`` (fixed width, so text order is time order,
on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.String(32)  # "2026-03-02T09:30:00.000000Z"
Id = sa.String(128)

#: Bumped when a projection changes shape or meaning: a store whose position was written by
#: another version is rebuilt from the ledger when the service opens it.
PROJECTION_VERSION = 4  # 2: the clocks follow the events; 3: proj_detainers.issuer_state; 4: hold notices discharged (rebuilt on open)

position = sa.Table(
    "proj_position", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", Seq, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

agencies = sa.Table(
    "proj_agencies", metadata,
    sa.Column("agency_id", Id, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("jurisdiction", sa.String(24), nullable=False),
    sa.Column("law_pack", sa.String(64)),      # decides detainers this agency receives
    sa.Column("access_pack", sa.String(64)),   # decides requests for records this agency keeps
    sa.Column("registered_seq", Seq, nullable=False),
    sa.Column("configured_seq", Seq),
)

persons = sa.Table(
    "proj_persons", metadata,
    sa.Column("person_id", Id, primary_key=True),
    sa.Column("registered_seq", Seq, nullable=False),  # the latest person.registered (the payload is read from it)
)

bookings = sa.Table(
    "proj_bookings", metadata,
    sa.Column("booking_id", Id, primary_key=True),
    sa.Column("person_id", Id, nullable=False),
    sa.Column("custodian_agency_id", Id, nullable=False, index=True),
    sa.Column("jurisdiction", sa.String(24), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),  # in_custody | released
    sa.Column("booked_at", Stamp, nullable=False),
    sa.Column("release_eligible_at", Stamp),
    sa.Column("released_at", Stamp),
    sa.Column("release_reason", sa.String(40)),
    sa.Column("booked_seq", Seq, nullable=False),
    sa.Column("released_seq", Seq),
)

detainers = sa.Table(
    "proj_detainers", metadata,
    sa.Column("request_id", Id, primary_key=True),
    sa.Column("booking_id", Id, nullable=False, index=True),
    sa.Column("person_id", Id, nullable=False),
    sa.Column("custodian_agency_id", Id, index=True),  # null when the booking is not (yet) known
    sa.Column("issuing_agency_id", Id, nullable=False, index=True),
    sa.Column("issuing_office", sa.String(200), nullable=False),
    sa.Column("form", sa.String(16), nullable=False),
    sa.Column("received_at", Stamp, nullable=False),
    sa.Column("state", sa.String(20), nullable=False, index=True),
    # What the issuing agency may be told of the state (lifecycle.issuer_state): after the decision,
    # custody status and release only where the law lets the custodian notify it of the release.
    sa.Column("issuer_state", sa.String(20), index=True),
    sa.Column("pack_id", sa.String(64)),
    sa.Column("pack_version", sa.String(32)),
    sa.Column("law_date", sa.String(10)),
    sa.Column("outcomes", sa.Text),  # JSON {action: outcome} of the latest decision
    sa.Column("hold_until", Stamp),  # when a hold must end (the latest decision's clock)
    sa.Column("deadline", Stamp, index=True),  # the next time something is due: queue order
    sa.Column("detainer_seq", Seq, nullable=False),
    sa.Column("decision_seq", Seq),
    sa.Column("closed_seq", Seq),
    sa.Column("updated_seq", Seq, nullable=False),
)

notices = sa.Table(
    "proj_notices", metadata,
    sa.Column("notice_id", Id, primary_key=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("recipient", sa.String(40), nullable=False),
    sa.Column("person_id", Id),
    sa.Column("about_request_id", Id, nullable=False, index=True),
    sa.Column("about", sa.String(16), nullable=False),  # detainer | record
    sa.Column("owed_by_agency_id", Id, index=True),  # the custodian that must send it
    sa.Column("requester_agency_id", Id, index=True),  # who made the request it is about
    sa.Column("due_by", Stamp, nullable=False, index=True),
    sa.Column("citation", sa.String(300), nullable=False),
    sa.Column("state", sa.String(12), nullable=False),  # owed | sent | discharged (its hold ended)
    sa.Column("due_seq", Seq, nullable=False),
    sa.Column("sent_seq", Seq),
    sa.Column("sent_at", Stamp),
)

record_requests = sa.Table(
    "proj_record_requests", metadata,
    sa.Column("request_id", Id, primary_key=True),
    sa.Column("requester_agency_id", Id, nullable=False, index=True),
    sa.Column("custodian_agency_id", Id, nullable=False, index=True),
    sa.Column("record_kind", sa.String(40), nullable=False),
    sa.Column("purpose", sa.String(60), nullable=False),
    sa.Column("requested_at", Stamp, nullable=False),
    sa.Column("outcome", sa.String(8)),  # allow | deny, once decided
    sa.Column("pack", sa.String(64)),
    sa.Column("deciding", sa.Text),  # JSON [{"id", "effect", "citation"}]
    sa.Column("requested_seq", Seq, nullable=False),
    sa.Column("decided_seq", Seq),
)

#: Not a projection (``projections rebuild`` keeps it): the files ``accord ingest`` committed, by SHA-256,
#: so the same file is never ingested twice. Written in the same transaction as the file's events.
ingested_files = sa.Table(
    "svc_ingested_files", metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("file", sa.String(255), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("first_seq", Seq, nullable=False),
    sa.Column("last_seq", Seq, nullable=False),
    sa.Column("ingested_at", Stamp, nullable=False),
)

PROJECTION_TABLES = (agencies, persons, bookings, detainers, notices, record_requests)
