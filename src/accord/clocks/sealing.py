"""Webhook secrets sealed at rest: the endpoints table holds each HMAC secret encrypted, never in clear.

The dispatcher needs the secret itself to sign a message (Standard Webhooks is symmetric), so it
cannot be kept as a hash the way API tokens are; but whoever reads the database (a dump, a backup,
an auditor's SQL access) must not be able to sign messages an agency would trust. So the secret is
encrypted with AES-256-GCM under a key that lives outside the database, bound to its endpoint's id
(the id is the associated data: a sealed secret copied onto another row does not open there).

The key is 32 random bytes, base64 in a file of mode 0600: ``$ACCORD_WEBHOOK_KEY_FILE`` when set,
else beside the checkpoint signing key (``accord.db.webhook-key`` next to ``accord.db.signing-key``;
see :mod:`accord.ledger.signing` for where that is). Registering the first endpoint makes it; a
file others may read is refused. Every host that delivers webhooks needs the same file, and it is
backed up with the signing key. A host that cannot open a secret (no key file, another key) sends
nothing and retries the delivery as it would a failing receiver, saying which key it needs, so a
key copied in time loses nothing; a key that is lost means registering each endpoint again.

Stored form: ``sealed1:<key id>:<base64 of nonce (12 bytes) + ciphertext of the 32 secret bytes + tag>``,
the key id naming the key that sealed it (so a host with another key, or none, says which it needs).
A row written before secrets were sealed (``whsec_...``) is sealed when the store next opens.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Engine

from accord.errors import AccordError
from accord.ledger.signing import KeyError_, check_private_mode, key_file_for, write_private_file

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


def key_id(key: bytes) -> str:
    """A short public name of a key (the first 8 hex digits of its SHA-256), kept beside what it sealed."""
    return hashlib.sha256(key).hexdigest()[:8]


@lru_cache(maxsize=8)
def _key(path: Path) -> bytes | None:
    """The key in ``path``, or None when there is no such file."""
    try:
        check_private_mode(path, "webhook key")
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except FileNotFoundError:
        return None
    except PermissionError:
        raise KeyError_(f"{path}: cannot read the webhook key (permission denied)") from None
    except ValueError:
        raise KeyError_(f"{path}: not a webhook key (base64 of 32 bytes)") from None
    if len(key) != 32:
        raise KeyError_(f"{path}: not a webhook key (base64 of 32 bytes)")
    return key


def _key_or_new(path: Path) -> bytes:
    """The key in ``path``, made there first if there is none (only registering an endpoint makes one)."""
    key = _key(path)
    if key is not None:
        return key
    key = secrets.token_bytes(32)
    made = write_private_file(path, base64.b64encode(key) + b"\n")
    _key.cache_clear()
    if not made:  # another process made it first
        return _key_or_new(path)
    log.warning("created webhook key %s at %s (mode 0600): back it up with the signing key, and give every host "
                "that delivers webhooks the same file", key_id(key), path)
    return key


def seal(engine: Engine, endpoint_id: str, secret: str) -> str:
    """The stored form of ``secret`` (``whsec_...``) for the endpoint ``endpoint_id``."""
    key = _key_or_new(key_file(engine))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, key_of(secret), endpoint_id.encode())
    return f"{SEALED}{key_id(key)}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(path: Path, endpoint_id: str, stored: str) -> str:
    """The ``whsec_...`` secret of ``stored`` under the key in ``path`` (:func:`key_file`, found once by a
    caller opening many); a row from before sealing is returned as it is.

    Never makes a key: a host without the key file says so (:class:`SealError`) instead of making
    another key that could not open what the first one sealed.
    """
    if stored.startswith(PREFIX):
        return stored
    wanted, _, text = stored.removeprefix(SEALED).partition(":")
    key = _key(path)
    if key is None:
        raise SealError(f"no webhook key at {path}: the secret was sealed with key {wanted}; copy that key file here "
                        f"from the host that registered the endpoint (or set {KEY_FILE_ENV})")
    if key_id(key) != wanted:
        raise SealError(f"the secret was sealed with webhook key {wanted}, but {path} holds key {key_id(key)}: point "
                        f"{KEY_FILE_ENV} at key {wanted}, or, if it is lost, register the endpoint again")
    try:
        raw = base64.b64decode(text, validate=True)
        if not stored.startswith(SEALED) or len(raw) < 12 + 16:
            raise ValueError
        opened = AESGCM(key).decrypt(raw[:12], raw[12:], endpoint_id.encode())
    except (ValueError, InvalidTag):
        raise SealError(f"the endpoint's sealed secret does not open with webhook key {wanted} (damaged, or copied "
                        "from another endpoint): register the endpoint again") from None
    return PREFIX + base64.b64encode(opened).decode()
