"""Components that follow the ledger inside the service's own transactions.

Each named module registers ``@projector.follows`` handlers when imported and has ``attach(store)``,
which brings its tables to their head. :class:`~accord.service.store.Store` attaches them all when
it opens, so whichever process appends events (the API, the CLI, ``accord ingest`` caught up later)
the components' tables follow them in the same transaction as the read model.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Import paths, in the order they attach.
COMPONENTS = ("accord.clocks.component",)


def attach_all(store: Any) -> None:
    for name in COMPONENTS:
        importlib.import_module(name).attach(store)
