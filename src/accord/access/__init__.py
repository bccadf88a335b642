"""accord.access — the records gateway: Cedar policies per law, decisions, and the notices owed.

``check(AccessRequest)`` decides a request under the pack of the custodian holding the records;
``Gateway(pack)`` keeps the parsed Cedar handles for many checks; ``record_decision(s)`` writes the
request, the decision and its notice.due events to the ledger in one transaction; ``notice_book`` projects the
notices still owed. See ``model.py`` for the request JSON shape.
"""

from .audit import Recorded, record_decision, record_decisions
from .errors import PolicyError
from .gateway import Gateway, check
from .model import AccessDecision, AccessRequest, Obligation, PolicyRef
from .notices import DueNotice, NoticeBook, mark_sent, notice_book
from .packs import Pack, list_packs, load_pack, pack_for_custodian

__all__ = [
    "AccessDecision", "AccessRequest", "DueNotice", "Gateway", "NoticeBook", "Obligation", "Pack", "PolicyError",
    "PolicyRef", "Recorded", "check", "list_packs", "load_pack", "mark_sent", "notice_book", "pack_for_custodian",
    "record_decision", "record_decisions",
]
