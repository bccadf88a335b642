"""The clocks' tables: the schedule (jobs), the outbox (messages and their deliveries), webhook
endpoints, rendered letters.

The schedule and the messages are derived from ledger events by the followers in ``follow.py``
(inside the transaction that appends the events), so ``accord clocks rebuild`` can derive the
schedule again; delivery attempts and endpoints are the dispatcher's own state. Times are UTC text
as in the read model (``accord.service.projector.stamp``), so text order is time order.
"""

from __future__ import annotations

import sqlalchemy as sa

from accord.service.schema import Id, Seq, Stamp

metadata = sa.MetaData()

#: Job kinds: what the scheduler appends when a job comes due.
WARNING, LIMIT, OVERDUE = "hold.warning", "hold.limit_reached", "notice.overdue"
#: Job states: waiting, fired (its event is in the ledger) or not needed any more (its reason says why).
SCHEDULED, DONE, CANCELLED = "scheduled", "done", "cancelled"

meta = sa.Table(
    "clock_meta", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    # Events up to this seq were in the ledger before the clocks were installed: they get their
    # deadlines scheduled, but owe no messages (an old store does not send its whole history).
    sa.Column("outbox_from_seq", Seq, nullable=False),
)

jobs = sa.Table(
    "clock_jobs", metadata,
    sa.Column("job_id", sa.String(300), primary_key=True),  # "<kind>:<subject>:<source_seq>"
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject", Id, nullable=False, index=True),  # detainer request id | notice id
    sa.Column("due_at", Stamp, nullable=False),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("source_seq", Seq, nullable=False),  # the event that scheduled it
    sa.Column("fired_seq", Seq),  # the event its firing appended
    sa.Column("finished_at", Stamp),  # when it fired or was cancelled (recorded time)
    sa.Column("reason", sa.String(200)),  # why it was cancelled
    sa.Index("ix_clock_jobs_due", "state", "due_at"),
)

#: Message channels: a signed webhook to an agency's endpoints, or a letter the custodian prints.
WEBHOOK, LETTER = "webhook", "letter"
#: Message states. ``pending``: deliveries under way; ``sent``: every delivery settled (see them);
#: ``no_endpoint``: the agency has registered no endpoint for its type; ``ready``: a letter rendered
#: (``failed``: it could not be, the log says why).
PENDING, SENT, NO_ENDPOINT, READY = "pending", "sent", "no_endpoint", "ready"

messages = sa.Table(
    "clock_messages", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),  # "msg_..." = the webhook-id receivers de-duplicate on
    sa.Column("type", sa.String(80), nullable=False),  # detainer.decided, detainer.released, alert.hold_warning, ...
    sa.Column("channel", sa.String(12), nullable=False),
    sa.Column("agency_id", Id, nullable=False, index=True),  # the recipient agency
    sa.Column("owner_agency_id", Id, index=True),  # the agency on whose behalf it goes (the custodian)
    sa.Column("subject", Id, nullable=False),  # request id or notice id it is about
    sa.Column("notice_id", Id),  # a notice its delivery discharges (notice.sent)
    sa.Column("event_seq", Seq, nullable=False),  # the event that owes it
    sa.Column("body", sa.Text, nullable=False),  # the exact JSON sent and signed
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),  # the owing event's recorded time
    sa.Index("ix_clock_messages_state", "channel", "state"),
)

#: Delivery states: retried until delivered, or given up (dead letter; its reason is shown).
DELIVERED, FAILED = "delivered", "failed"

deliveries = sa.Table(
    "clock_deliveries", metadata,
    sa.Column("message_id", sa.String(64), primary_key=True),
    sa.Column("endpoint_id", sa.String(64), primary_key=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Stamp, nullable=False),  # also the lease: a claim pushes it past the request's time limit
    sa.Column("first_attempt_at", Stamp),
    sa.Column("last_attempt_at", Stamp),
    sa.Column("delivered_at", Stamp),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.String(300)),
    sa.Index("ix_clock_deliveries_due", "state", "next_attempt_at"),
)

#: Endpoint states.
ACTIVE, DISABLED = "active", "disabled"

endpoints = sa.Table(
    "clock_endpoints", metadata,
    sa.Column("endpoint_id", sa.String(64), primary_key=True),  # "ep_..."
    sa.Column("agency_id", Id, nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(120), nullable=False),  # sealed (sealing.py): HMAC needs it; shown once, never listed
    sa.Column("event_types", sa.Text),  # JSON list of types (a trailing ".*" matches a family); null = every type
    sa.Column("description", sa.String(200)),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("disabled_reason", sa.String(300)),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("disabled_at", Stamp),
)

letters = sa.Table(
    "clock_letters", metadata,
    sa.Column("notice_id", Id, primary_key=True),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("rendered_at", Stamp, nullable=False),
)

TABLES = (meta, jobs, messages, deliveries, endpoints, letters)
