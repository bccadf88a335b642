"""The values the ledger takes and returns: frozen dataclasses and named tuples, cheap to build by the million."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class BatchRef:
    """``caused_by=BatchRef(i)``: the event at 0-based position ``i`` of the same ``append_many`` call.

    Lets a cause and its effects go in one transaction: the ledger gives the cause its seq
    inside that transaction and stores that seq as the effect's ``caused_by``. ``i`` must be
    an earlier position of the same call (``append_chunks``: of the whole call, across chunks).
    """

    index: int


class NewEvent(NamedTuple):
    """An event to append. ``stream=None`` derives it from the payload (see :func:`accord.ledger.streams.default_stream`).

    ``caused_by`` is the seq of a stored event or a :class:`BatchRef` to an earlier event of the same call.
    A named tuple, like :class:`StoredEvent`: ingest builds one per row, and a frozen dataclass's
    ``__init__`` (four ``object.__setattr__`` calls) cost twice as much; it is as immutable.
    """

    kind: str
    payload: BaseModel | dict[str, Any]
    stream: str | None = None
    caused_by: int | BatchRef | None = None


class StoredEvent(NamedTuple):
    """An event as recorded: global ``seq`` from 1, ``stream_seq`` from 1 within its stream.

    A named tuple because ``append_many`` and ``events`` build them by the million.
    """

    seq: int
    stream: str
    stream_seq: int
    kind: str
    payload_json: str  # the stored RFC 8785 bytes, as text (parse with Model.model_validate_json)
    caused_by: int | None
    recorded_at: datetime
    leaf_hash: bytes
    chain_hash: bytes

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.payload_json)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by ``accord events --json``."""
        return {
            "seq": self.seq, "stream": self.stream, "stream_seq": self.stream_seq, "kind": self.kind,
            "caused_by": self.caused_by, "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
            "payload": self.payload, "leaf_hash": self.leaf_hash.hex(), "chain_hash": self.chain_hash.hex(),
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """Outcome of :meth:`Ledger.verify`. ``first_bad_seq`` names the first event that fails."""

    ok: bool
    size: int
    first_bad_seq: int | None = None
    reason: str = ""
    root_hash: bytes = b""
    checkpoints_checked: int = 0


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement 'the ledger had ``size`` events with Merkle root ``root_hash``'.

    ``note()`` is the signed text (C2SP checkpoint style: origin, size, base64
    root, then the time); anyone with ``public_key`` can check ``signature``.
    """

    origin: str
    size: int
    root_hash: bytes
    created_at: str
    key_id: str
    public_key: bytes
    signature: bytes = b""

    def note(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{_b64(self.root_hash)}\n{self.created_at}\n".encode()

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin, "size": self.size, "root_hash": self.root_hash.hex(),
            "created_at": self.created_at, "key_id": self.key_id, "public_key": self.public_key.hex(),
            "signature": self.signature.hex(), "note": self.note().decode(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        return cls(
            origin=d["origin"], size=int(d["size"]), root_hash=bytes.fromhex(d["root_hash"]),
            created_at=d["created_at"], key_id=d["key_id"], public_key=bytes.fromhex(d["public_key"]),
            signature=bytes.fromhex(d["signature"]),
        )


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Event ``seq`` is leaf ``seq - 1`` of the tree of ``size`` leaves with root ``root_hash``."""

    seq: int
    size: int
    leaf_hash: bytes
    root_hash: bytes
    path: tuple[bytes, ...] = field(default=())

    def verify(self) -> bool:
        from .merkle import verify_inclusion

        return verify_inclusion(self.seq - 1, self.size, self.leaf_hash, self.path, self.root_hash)

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "size": self.size, "leaf_hash": self.leaf_hash.hex(),
                "root_hash": self.root_hash.hex(), "path": [p.hex() for p in self.path]}


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``old_size`` leaves (root ``old_root``) is a prefix of the one of ``new_size``."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...] = field(default=())

    def verify(self) -> bool:
        from .merkle import verify_consistency

        return verify_consistency(self.old_size, self.new_size, self.old_root, self.new_root, self.path)

    def to_dict(self) -> dict[str, Any]:
        return {"old_size": self.old_size, "new_size": self.new_size, "old_root": self.old_root.hex(),
                "new_root": self.new_root.hex(), "path": [p.hex() for p in self.path]}
