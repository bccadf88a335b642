"""The ledger: append-only, hash-chained events under an RFC 6962 Merkle tree with signed checkpoints.

See docs/contracts.md (Ledger) for the API other packages use.
"""

from .canonical import canonical_json
from .records import BatchRef, Checkpoint, ConsistencyProof, InclusionProof, NewEvent, StoredEvent, VerifyReport
from .store import Ledger
from .transaction import LedgerTx
from .streams import default_stream
from .writer import Prepared, prepare

__all__ = [
    "Ledger", "LedgerTx", "NewEvent", "BatchRef", "StoredEvent", "VerifyReport", "Checkpoint", "InclusionProof", "ConsistencyProof",
    "canonical_json", "default_stream", "prepare", "Prepared",
]
