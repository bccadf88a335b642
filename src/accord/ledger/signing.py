"""The Ed25519 key that signs checkpoints.

Where the private key lives, in order: ``$ACCORD_SIGNING_KEY_FILE``; for a
SQLite store, a file beside it (``accord.db.signing-key``, mode 0600, created
at ``accord init``); otherwise (PostgreSQL without the variable) the
``ledger_keys`` table. A key outside the database is the stronger choice: whoever
can rewrite the tables then still cannot sign a forged checkpoint. Every public
key is recorded in ``ledger_keys`` and in each checkpoint it signed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Connection, Engine

from accord.errors import AccordError

from .schema import keys

KEY_FILE_ENV = "ACCORD_SIGNING_KEY_FILE"


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)


def signature_valid(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def key_file_for(engine: Engine) -> Path | None:
    """The private-key file for this store, or ``None`` to keep it in ``ledger_keys``."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        return Path(f"{engine.url.database}.signing-key")
    return None


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _load_pem(data: bytes, where: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise AccordError(f"{where}: signing key is not an Ed25519 key")
    return key


def _from_file(path: Path) -> Ed25519PrivateKey:
    try:
        return _load_pem(path.read_bytes(), str(path))
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _load_pem(path.read_bytes(), str(path))
    with os.fdopen(fd, "wb") as fh:
        fh.write(_pem(key))
        fh.flush()
        os.fsync(fh.fileno())
    return key


def load_or_create_signer(conn: Connection, key_file: Path | None) -> Signer:
    """The store's signer; makes and records a key on first use. Call inside a write transaction."""
    if key_file is not None:
        signer = Signer(_from_file(key_file))
        private_blob = None
    else:
        row = conn.execute(
            sa.select(keys.c.private_key).where(keys.c.private_key.is_not(None)).order_by(keys.c.created_at.desc()).limit(1)
        ).first()
        if row is not None:
            return Signer(_load_pem(row[0], "ledger_keys"))
        signer = Signer(Ed25519PrivateKey.generate())
        private_blob = _pem(signer.private_key)
    known = conn.execute(sa.select(keys.c.key_id).where(keys.c.key_id == signer.key_id)).first()
    if known is None:
        conn.execute(keys.insert().values(
            key_id=signer.key_id, public_key=signer.public_key, private_key=private_blob,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ))
    return signer
