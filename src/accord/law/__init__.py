"""Law as code: jurisdiction packs of cited, dated rules and the engine that applies them.

``decide`` applies a pack to one case; ``decide_batch`` applies the same rules to a
Polars frame of FACT columns; ``hold_until`` is the 48-hour clock.

Names are imported on first use (PEP 562), so deciding one case does not load Polars.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "decide_batch": ".batch", "DetainerCase": ".case", "hold_until": ".clock", "ActionDecision": ".engine",
    "CaseDecision": ".engine", "decide": ".engine", "FACTS": ".facts", "facts_from_case": ".facts",
    "LawDateError": ".pack", "Pack": ".pack", "PackError": ".pack", "Rule": ".pack", "list_packs": ".pack",
    "load_pack": ".pack",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'accord.law' has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name], __name__), name)
    globals()[name] = value
    return value
