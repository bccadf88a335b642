"""Witnessed checkpoints: each signed checkpoint in the C2SP signed-note / tlog-checkpoint text format,
written to a place outside the database (a folder, or POSTed to a URL), and read back by ``audit verify``.

A checkpoint note (https://c2sp.org/tlog-checkpoint, https://c2sp.org/signed-note)::

    accord.ledger/6f1c...                      <- origin (the ledger's id)
    300                                        <- tree size
    q2c7...base64 root hash...=                <- RFC 6962 Merkle root
    2026-12-02T18:00:00.000000Z                <- extension line: when it was signed
                                               <- blank line
    — accord.ledger/6f1c... AAAAAJ7u...        <- key name, base64(4-byte key hash || Ed25519 signature)

Whoever keeps these files (an auditor, a second host, a transparency log) holds a commitment the
operator cannot take back: a later rewrite, truncation or rollback of the first ``size`` events
contradicts it. Events after the newest witnessed checkpoint are protected only once the next one
is published (``ACCORD_CHECKPOINT_EVERY_EVENTS`` / ``ACCORD_CHECKPOINT_EVERY_MINUTES`` bound that tail).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from accord.errors import InputError, IntegrityError

from .records import Checkpoint
from .signing import key_id_of, note_key_hash, signature_valid

SUFFIX = ".checkpoint"
_DASH = "\u2014"


def to_signed_note(cp: Checkpoint) -> str:
    """The checkpoint as a C2SP signed note; the key name is the ledger's origin."""
    sig = base64.b64encode(note_key_hash(cp.origin, cp.public_key) + cp.signature).decode()
    return cp.note().decode() + f"\n{_DASH} {cp.origin} {sig}\n"


def from_signed_note(text: str, trusted: list[bytes], where: str) -> Checkpoint:
    """Parse a signed note and find a signature by a trusted key over it (IntegrityError if none)."""
    body, sep, sigs = text.partition("\n\n")
    lines = body.split("\n")
    if not sep or len(lines) < 3:
        raise InputError("not a signed checkpoint note (origin, size, root hash, blank line, signatures)", source=where)
    origin, size_text, root_text, *extensions = lines
    try:
        size = int(size_text)
        root = base64.b64decode(root_text, validate=True)
    except ValueError:
        raise InputError("not a signed checkpoint note: bad size or root hash line", source=where) from None
    if size < 0 or len(root) != 32 or len(extensions) != 1:
        raise InputError("not an Accord checkpoint note (size, 32-byte root, one time line)", source=where)
    created_at = extensions[0]
    message = (body + "\n").encode()
    for line in sigs.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            continue
        try:
            blob = base64.b64decode(parts[2], validate=True)
        except ValueError:
            continue
        if len(blob) != 68:
            continue
        for key in trusted:
            if note_key_hash(parts[1], key) == blob[:4] and signature_valid(key, blob[4:], message):
                return Checkpoint(origin, size, root, created_at, key_id_of(key), key, blob[4:])
    raise IntegrityError(f"{where}: checkpoint at size {size} is not signed by a trusted key")


def publish(cp: Checkpoint, target: str) -> str:
    """Write ``cp`` to folder ``target`` (``<size>-<time>.checkpoint`` and ``latest.checkpoint``) or POST it
    to an ``http(s)://`` URL; returns where it went."""
    note = to_signed_note(cp)
    if target.startswith(("http://", "https://")):
        import httpx

        try:
            res = httpx.post(target, content=note.encode(), headers={"content-type": "text/plain; charset=utf-8"},
                             timeout=15, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise InputError(f"cannot publish the checkpoint: {exc.__class__.__name__}", field="--publish") from None
        if res.status_code >= 300:
            raise InputError(f"the witness answered {res.status_code}", field="--publish")
        return target
    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = cp.created_at.replace(":", "").replace("-", "")
    path = folder / f"{cp.size:012d}-{stamp}{SUFFIX}"
    for name in (path, folder / f"latest{SUFFIX}"):
        tmp = name.with_name(name.name + ".tmp")
        tmp.write_text(note, encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, name)
    return str(path)


def load(paths: list[Path], trusted: list[bytes]) -> list[Checkpoint]:
    """Checkpoints from files or folders of them: signed notes (``*.checkpoint``) or the older JSON form."""
    out: list[Checkpoint] = []
    for p in paths:
        files = sorted(q for q in p.glob(f"*{SUFFIX}") if q.name != f"latest{SUFFIX}") if p.is_dir() else [p]
        if p.is_dir() and not files:
            raise InputError(f"no {SUFFIX} files in this folder", source=str(p))
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read the checkpoint ({exc.__class__.__name__})", source=str(f)) from None
            if text.lstrip().startswith("{"):
                try:
                    out.append(Checkpoint.from_dict(json.loads(text)))
                except (ValueError, KeyError, TypeError) as exc:
                    raise InputError(f"not a checkpoint file ({exc.__class__.__name__})", source=str(f)) from None
            else:
                out.append(from_signed_note(text, trusted, str(f)))
    return out
