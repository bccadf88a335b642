"""Law as code: jurisdiction packs of cited, dated rules and the engine that applies them.

``decide`` applies a pack to one case; ``decide_batch`` applies the same rules to a
Polars frame of FACT columns; ``hold_until`` is the 48-hour clock.
"""

from .batch import decide_batch
from .case import DetainerCase
from .clock import hold_until
from .engine import ActionDecision, CaseDecision, decide
from .facts import FACTS, facts_from_case
from .pack import LawDateError, Pack, PackError, Rule, list_packs, load_pack

__all__ = [
    "decide", "decide_batch", "hold_until", "facts_from_case", "FACTS", "DetainerCase", "CaseDecision",
    "ActionDecision", "Pack", "Rule", "PackError", "LawDateError", "list_packs", "load_pack",
]
