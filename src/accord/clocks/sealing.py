"""Webhook secrets sealed at rest: the endpoints table holds each HMAC secret encrypted, never in clear.

The dispatcher needs the secret itself to sign a message (Standard Webhooks is symmetric), so it
cannot be kept as a hash the way API tokens are; but whoever reads the database (a dump, a backup,
an auditor's SQL access) must not be able to sign messages an agency would trust. So the secret is
encrypted with AES-256-GCM under a key that lives outside the database, bound to its endpoint's id
(the id is the associated data: a sealed secret copied onto another row does not open there).

The key is 32 random bytes, base64 in a file of mode 0600: ``$ACCORD_WEBHOOK_KEY_FILE`` when set,
else beside the checkpoint signing key (``accord.db.webhook-key`` next to ``accord.db.signing-key``;
see :mod:`accord.ledger.signing` for where that is). It is made on first use; a file others may
read is refused. Back it up with the signing key: without it the sealed secrets cannot be opened,
and each endpoint must be registered again (its deliveries fail with that reason, they are not
retried forever).

Stored form: ``sealed1:<base64 of nonce (12 bytes) + ciphertext of the 32 secret bytes + tag>``.
A row written before secrets were sealed (``whsec_...``) is sealed when the store next opens.
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

from accord.errors import AccordError
from accord.ledger.signing import KeyError_, check_private_mode, key_file_for

from .signing import PREFIX, key_of

KEY_FILE_ENV = "ACCORD_WEBHOOK_KEY_FILE"
SEALED = "sealed1:"
log = logging.getLogger("accord.clocks")


class SealError(AccordError):
    """A sealed secret that this server's key cannot open (another key, a damaged value)."""


def key_file(engine: Engine) -> Path:
    """Where this store's webhook key lives (see the module's text)."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    signing = key_file_for(engine)
    name = signing.name.removesuffix(".signing-key")
    return signing.with_name(f"{name}.webhook-key")


@lru_cache(maxsize=8)
def _key(path: Path) -> bytes:
    try:
        check_private_mode(path, "webhook key")
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        return _new_key(path)
    except PermissionError:
        raise KeyError_(f"{path}: cannot read the webhook key (permission denied)") from None
    except ValueError:
        raise KeyError_(f"{path}: not a webhook key (base64 of 32 bytes)") from None
    if len(key) != 32:
        raise KeyError_(f"{path}: not a webhook key (base64 of 32 bytes)")
    return key


def _new_key(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return _key.__wrapped__(path)
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(base64.b64encode(key) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    log.warning("created a new webhook key at %s (mode 0600): back it up with the signing key", path)
    return key


def seal(engine: Engine, endpoint_id: str, secret: str) -> str:
    """The stored form of ``secret`` (``whsec_...``) for the endpoint ``endpoint_id``."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(key_file(engine))).encrypt(nonce, key_of(secret), endpoint_id.encode())
    return SEALED + base64.b64encode(nonce + sealed).decode()


def unseal(engine: Engine, endpoint_id: str, stored: str) -> str:
    """The ``whsec_...`` secret of ``stored`` (a row from before sealing is returned as it is)."""
    if stored.startswith(PREFIX):
        return stored
    path = key_file(engine)
    try:
        raw = base64.b64decode(stored.removeprefix(SEALED), validate=True)
        if not stored.startswith(SEALED) or len(raw) < 12 + 16:
            raise ValueError
        key = AESGCM(_key(path)).decrypt(raw[:12], raw[12:], endpoint_id.encode())
    except (ValueError, InvalidTag):
        raise SealError(f"the endpoint's secret cannot be opened with the webhook key {path} (another key, or the "
                        "key file was lost): register the endpoint again for a new secret") from None
    return PREFIX + base64.b64encode(key).decode()
