"""The Ed25519 key that signs checkpoints, and the public keys a verifier trusts.

The private key never lives in the database it signs (whoever can rewrite the tables must not be
able to sign a forged checkpoint too). It is a PEM file, mode 0600: ``$ACCORD_SIGNING_KEY_FILE``
when set; for a SQLite store the file beside it (``accord.db.signing-key``), except inside a git work
tree, where it goes to ``$XDG_CONFIG_HOME/accord/keys/<file>-<hash of its path>.signing-key`` (so that
``git add .`` cannot commit it; a key already beside the store is still used); for PostgreSQL
``$XDG_CONFIG_HOME/accord/keys/<ledger uuid>.signing-key`` (``~/.config`` by default). A key file
that group or others may read is refused. A new key is announced once, as a warning, when it is made.
Only public keys are recorded in ``ledger_keys`` (and in each checkpoint they signed). A private key
an older version kept in ``ledger_keys`` is moved to the key file and erased from the table.

``audit verify`` trusts only keys given from outside the database: ``--trusted-key FILE``
(repeatable), else ``$ACCORD_TRUSTED_KEYS`` (files, separated by ``:``), else the public half of the
operator's configured key and the public keys it retired (``<key file>.retired-<id>.pub``, left by
``accord audit rotate-key``); plus each key a ``ledger.key_rotated`` event introduced, signed by a
key already trusted (:func:`rotation_message`). A trusted-key file holds a PEM public or private
key, 64 hex digits, or a C2SP note verifier key (``name+hash+base64``, as ``accord audit key`` prints).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Connection, Engine

from accord.errors import AccordError, InputError

from .schema import keys

KEY_FILE_ENV = "ACCORD_SIGNING_KEY_FILE"
TRUSTED_KEYS_ENV = "ACCORD_TRUSTED_KEYS"
ROTATION_KIND = "ledger.key_rotated"
ROTATION_STREAM = "ledger/keys"
log = logging.getLogger("accord.ledger")


class KeyError_(AccordError):
    """A signing or trusted key that cannot be used (unsafe mode, unreadable, not Ed25519)."""


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    path: Path | None = None

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


def _config_home() -> Path:
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def key_file_for(engine: Engine, ledger_id: str | None = None) -> Path:
    """The private-key file of this store (see the module docstring); never ``None``: no key lives in the tables."""
    if os.environ.get(KEY_FILE_ENV):
        return Path(os.environ[KEY_FILE_ENV])
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        beside = Path(f"{engine.url.database}.signing-key")
        if beside.exists() or _git_work_tree(beside.parent) is None:
            return beside
        # never beside a store inside a git work tree, where `git add .` would commit the key: the
        # per-user folder instead, named after the store's absolute path (move the two together with
        # ACCORD_SIGNING_KEY_FILE)
        where = str(Path(engine.url.database).resolve())
        return _config_home() / "accord" / "keys" / (
            f"{Path(where).name}-{hashlib.sha256(where.encode()).hexdigest()[:12]}.signing-key")
    if ledger_id is None:
        with engine.connect() as conn:
            ledger_id = conn.execute(sa.text("SELECT ledger_id FROM ledger_head WHERE id = 1")).scalar()
    name = str(ledger_id or "ledger").rsplit("/", 1)[-1]
    return _config_home() / "accord" / "keys" / f"{name}.signing-key"


def _git_work_tree(folder: Path) -> Path | None:
    """The git work tree ``folder`` is in (a parent holding ``.git``), or None."""
    try:
        here = folder.resolve()
    except OSError:
        return None
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return None


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _load_pem(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyError_(f"{where}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{where}: signing key is not an Ed25519 key")
    return key


def check_private_mode(path: Path, what: str = "signing key") -> None:
    """Refuse a private key file that anyone but its owner may read or write."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyError_(f"{path}: the {what} may be read by others (mode {mode:04o}); "
                        f"run `chmod 600 {path}` (Accord will not use a key others can read)")


def _read_key_file(path: Path) -> Ed25519PrivateKey | None:
    try:
        check_private_mode(path)
        return _load_pem(path.read_bytes(), str(path))
    except FileNotFoundError:
        return None
    except PermissionError:
        raise KeyError_(f"{path}: cannot read the signing key (permission denied)") from None


def write_private_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to a new file of mode 0600 (its folder 0700), durably; False when another process made it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return True


def _from_file(path: Path, legacy: bytes | None = None) -> Ed25519PrivateKey:
    key = _read_key_file(path)
    if key is not None:
        return key
    key = _load_pem(legacy, "ledger_keys") if legacy else Ed25519PrivateKey.generate()
    if not write_private_file(path, _pem(key)):  # another process made it first
        return _from_file(path)
    if legacy:
        log.warning("moved the checkpoint signing key out of the database to %s (mode 0600)", path)
    else:
        pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        log.warning("created a new checkpoint signing key %s at %s (mode 0600): keep it secret, back it up, "
                    "and give verifiers its public key (`accord audit key`)", key_id_of(pub), path)
    return key


def configured_public_key(engine: Engine) -> bytes | None:
    """The public half of the operator's configured key, if the key file exists (nothing is created)."""
    path = key_file_for(engine)
    key = _read_key_file(path) if path.exists() else None
    return None if key is None else Signer(key).public_key


def load_or_create_signer(conn: Connection, key_file: Path) -> Signer:
    """The store's signer; makes the key file on first use and records its public key. Call in a write transaction."""
    legacy = conn.execute(sa.select(keys.c.key_id, keys.c.private_key).where(keys.c.private_key.is_not(None))
                          .order_by(keys.c.created_at.desc()).limit(1)).first()
    signer = Signer(_from_file(key_file, bytes(legacy[1]) if legacy else None), key_file)
    if legacy is not None:  # a private key is never left in the database it signs
        conn.execute(keys.update().where(keys.c.private_key.is_not(None)).values(private_key=None))
    known = conn.execute(sa.select(keys.c.key_id).where(keys.c.key_id == signer.key_id)).first()
    if known is None:
        conn.execute(keys.insert().values(
            key_id=signer.key_id, public_key=signer.public_key, private_key=None,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        ))
    return signer


# -- trusted public keys ------------------------------------------------------------------------

def note_key_hash(name: str, public_key: bytes) -> bytes:
    """C2SP signed-note key hash: the first 4 bytes of SHA-256(name || "\\n" || 0x01 || key)."""
    return hashlib.sha256(name.encode() + b"\n\x01" + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """C2SP note verifier key ``<name>+<hex hash>+<base64(0x01 || key)>``."""
    encoded = base64.b64encode(b"\x01" + public_key).decode()
    return f"{name}+{note_key_hash(name, public_key).hex()}+{encoded}"


def parse_public_key(text: str, where: str) -> bytes:
    """One public key from a trusted-key file (see the module docstring)."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        data = stripped.encode()
        try:
            pub = serialization.load_pem_public_key(data)
        except ValueError:
            try:
                pub = serialization.load_pem_private_key(data, password=None).public_key()
            except (ValueError, TypeError):
                raise InputError("not a PEM key", source=where) from None
        if not isinstance(pub, Ed25519PublicKey):
            raise InputError("not an Ed25519 key", source=where)
        return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if len(stripped) == 64 and all(c in "0123456789abcdefABCDEF" for c in stripped):
        return bytes.fromhex(stripped)
    parts = stripped.split("+", 2)  # the name holds no "+", the base64 may
    if len(parts) == 3:
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except ValueError:
            raw = b""
        if len(raw) == 33 and raw[0] == 1:
            return raw[1:]
    raise InputError("not a public key (PEM, 64 hex digits, or a note verifier key name+hash+base64)", source=where)


def read_trusted_keys(paths: list[Path]) -> list[bytes]:
    out = []
    for p in paths:
        try:
            text = Path(p).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the trusted key: {exc.strerror}", source=str(p)) from None
        except UnicodeDecodeError:
            raise InputError("a trusted key file is text (PEM, hex or a verifier key)", source=str(p)) from None
        out.append(parse_public_key(text, str(p)))
    return out


def trusted_keys(engine: Engine, files: list[Path] | None = None) -> list[bytes]:
    """``files``, else ``$ACCORD_TRUSTED_KEYS``, else the operator's configured key (may be empty)."""
    if files:
        return read_trusted_keys(files)
    env = os.environ.get(TRUSTED_KEYS_ENV, "").strip()
    if env:
        return read_trusted_keys([Path(p) for p in env.split(os.pathsep) if p])
    mine = configured_public_key(engine)
    path = key_file_for(engine)
    retired = sorted(path.parent.glob(f"{path.name}.retired-*.pub")) if path.parent.is_dir() else []
    return ([mine] if mine else []) + read_trusted_keys(retired)


def rotation_message(origin: str, old_public: bytes, new_public: bytes) -> bytes:
    """What the old key signs to hand over to the new one."""
    b64 = base64.b64encode
    return f"accord key rotation\n{origin}\nold {b64(old_public).decode()}\nnew {b64(new_public).decode()}\n".encode()
