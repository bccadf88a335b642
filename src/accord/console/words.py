"""Plain words for the console: states, actions, outcomes, events and steps as an officer reads them."""

STATE_WORDS = {
    "received": "received, not yet decided",
    "decided": "decided in part: facts are missing for some of what it asks",
    "holding": "hold allowed: the person may be kept past release until the hold ends",
    "notify_pending": "notify at release: tell the issuing agency when the person is released",
    "declined": "declined: the law allows none of what the request asks",
    "released": "closed: the person was released",
    "transferred": "closed: the person was handed to the issuing agency",
    "expired": "closed: the hold reached its limit",
    "lifted": "closed: the issuing agency lifted it",
    "cancelled": "closed: cancelled as issued in error",
}

ACTION_NAMES = {
    "hold_past_release": "Hold past release",
    "notify_release": "Notify the issuing agency of the release",
    "transfer_at_release": "Hand over to the issuing agency at release",
    "allow_interview": "Let the issuing agency interview the person",
    "share_info": "Share information with the issuing agency",
    "serve_copy_on_subject": "Give the person a copy of the detainer",
}

OUTCOME_WORDS = {
    "require": "Required: the law says the custodian must do this",
    "allow": "Allowed: the custodian may do this",
    "deny": "Not allowed: the law forbids this",
    "insufficient_facts": "Not yet decided: facts the law needs are missing",
}

EVENT_NAMES = {
    "detainer.received": "Detainer received",
    "agency.registered": "Agency registered",
    "agency.configured": "Agency's law configured",
    "decision.made": "Decision made under the custodian's law",
    "detainer.lifted": "Detainer lifted or cancelled",
    "custody.booked": "Person booked into custody",
    "custody.released": "Person released from custody",
    "person.registered": "Person registered",
    "notice.due": "Notice owed",
    "notice.sent": "Notice sent",
    "notice.overdue": "Notice overdue",
    "hold.warning": "Hold nears its limit",
    "hold.limit_reached": "Hold reached its limit",
    "delivery.failed": "A message to an agency could not be delivered",
}

STEP_WORDS = {
    "release": "Record release",
    "transfer": "Record transfer to the issuing agency",
    "lift": "Record that the detainer was lifted",
    "cancel": "Record that the detainer was cancelled",
}

REASON_WORDS = {
    "bail_posted": "bail posted",
    "released_on_recognizance": "released on recognizance",
    "charges_dismissed": "charges dismissed",
    "sentence_served": "sentence served",
    "acquitted": "acquitted",
    "transferred_other": "transferred to another agency (not immigration)",
    "transferred_to_immigration": "handed to the immigration agency",
}

MESSAGE_NAMES = {
    "detainer.decided": "The decision",
    "detainer.released": "Release notification",
    "detainer.expired": "Hold-ended notification",
    "detainer.lifted": "Lift acknowledgement",
    "alert.notice_overdue": "Alert: a notice is overdue",
    "alert.delivery_failed": "Alert: a message could not be delivered",
    "alert.hold_warning": "Alert: the hold nears its limit",
    "alert.hold_limit_reached": "Alert: the hold reached its limit",
    "notice.due": "Notice",
    "letter": "Letter to the person",
}

DELIVERY_WORDS = {
    "pending": "owed, being sent",
    "sent": "sent",
    "no_endpoint": "owed, not sent: the agency has registered no webhook endpoint for it",
    "ready": "letter ready to print",
    "failed": "owed, delivery failed",
}

SHORT_STATES = {"received": "received", "decided": "decided in part", "holding": "hold allowed",
                "notify_pending": "notify at release", "declined": "declined"}
