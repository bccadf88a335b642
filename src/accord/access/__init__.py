"""accord.access — the records gateway: Cedar policies per law, decisions, and the notices owed.

``check(AccessRequest)`` decides a request under the pack of the custodian holding the records;
``Gateway(pack)`` keeps the parsed Cedar handles for many checks; ``notices_for(decision)`` names the
notices a decision owes. Nothing here writes: ``accord.service`` records requests, decisions and
notices in the ledger. See ``model.py`` for the request JSON shape.
"""

from .errors import PolicyError
from .gateway import Gateway, check
from .model import AccessDecision, AccessRequest, Obligation, PolicyRef
from .owed import notice_id, notices_for
from .packs import Pack, list_packs, load_pack, pack_for_custodian

__all__ = [
    "AccessDecision", "AccessRequest", "Gateway", "Obligation", "Pack", "PolicyError", "PolicyRef", "check",
    "list_packs", "load_pack", "notice_id", "notices_for", "pack_for_custodian",
]
