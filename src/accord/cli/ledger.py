"""``accord init``, ``accord ingest``, ``accord events`` and ``accord audit verify|prove|consistency|checkpoint``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .support import SafeConsole
from rich.markup import escape

from accord.errors import IntegrityError, NotFoundError

from .support import Table, DbOption, JsonOption, progress_bar, reported as _reported

out = SafeConsole(soft_wrap=True)


def _open(db: str | None, create: bool = False):  # -> Ledger
    """Commands that only read (or add to what is there) refuse a store with no ledger."""
    from accord.ledger.store import Ledger

    return Ledger.open(db, create=create)


def init(db: DbOption = None) -> None:
    """Create (or migrate) the ledger store and its checkpoint-signing key."""
    with _reported():
        from accord.ledger.signing import key_file_for

        led = _open(db, create=True)
        key_file = key_file_for(led.engine)
        out.print(f"ledger ready at [bold]{escape(led.url)}[/] with {led.size} events")
        out.print(f"checkpoint signing key: {escape(str(key_file))} (never in the database; "
                  "`accord audit key` prints its public half for verifiers)")
        led.close()


def ingest(
    file: Annotated[Path, typer.Argument(help="JSON Lines (.jsonl) or CSV (.csv) file of records.")],
    db: DbOption = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="jsonl or csv \\[default: from the file name]")] = None,  # noqa: UP007
    kind: Annotated[Optional[str], typer.Option("--kind", help="Event kind of every row of a CSV file, e.g. custody.booked")] = None,  # noqa: UP007
    as_json: JsonOption = False,
) -> None:
    """Ingest custody records, detainer requests, releases and other records.

    JSON Lines: one {"kind": "custody.booked", "payload": {...}} per line, optionally with "stream" and "caused_by".
    CSV: one kind per file (--kind); dotted columns for nested fields, JSON in cells for lists.
    Every rejected row is reported as FILE:LINE: field 'F': problem.

    The file lands whole or not at all, in ONE transaction: if any row is rejected (a bad field, or a step
    that cannot happen: a duplicate id, a release of someone never booked, a notice sent that was never owed),
    or the command is interrupted, nothing from the file is recorded. The same file ingested again is a no-op.
    """
    with _reported():
        from accord.service.ingest import ingest_file
        from accord.service.store import Store

        with Store.open(db) as store, progress_bar() as bar:
            task = bar.add_task(f"checking and recording {file.name}", total=None)
            result = ingest_file(store, file, fmt, kind,
                                 on_row=lambda n: n % 1000 or bar.update(task, completed=n))
    if as_json:
        out.print_json(data={"file": str(file), "events": result.count, "first_seq": result.first_seq,
                             "last_seq": result.last_seq, "sha256": result.sha256,
                             "already_ingested": result.already_ingested})
    elif result.already_ingested:
        out.print(f"{escape(file.name)} was already ingested (sha256 {result.sha256[:16]}…, events "
                  f"{result.first_seq}..{result.last_seq}); nothing recorded")
    elif result.count:
        out.print(f"committed {result.count} events from {escape(file.name)}: seq {result.first_seq}..{result.last_seq}")
    else:
        out.print(f"{escape(file.name)} has no rows; nothing recorded")


def events(
    db: DbOption = None,
    kind: Annotated[Optional[str], typer.Option(help="Only this kind, e.g. detainer.received")] = None,  # noqa: UP007
    stream: Annotated[Optional[str], typer.Option(help="Only this stream, e.g. booking/B-1")] = None,  # noqa: UP007
    from_seq: Annotated[int, typer.Option("--from", min=1, help="First seq")] = 1,
    to_seq: Annotated[Optional[int], typer.Option("--to", min=1, help="Last seq")] = None,  # noqa: UP007
    limit: Annotated[int, typer.Option(min=0, help="At most this many (0: no limit)")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, with payloads (personal fields redacted).")] = False,
    include_personal: Annotated[bool, typer.Option(
        "--include-personal", help="With --json: print personal fields (name, birth date, ...) as stored; "
                                   "each use is logged on stderr")] = False,
) -> None:
    """List recorded events in seq order, filtered by kind, stream and seq range.

    --json prints payloads with the fields the domain marks personal replaced by "<redacted>", unless
    --include-personal is given; that use is written as a warning log line (accord.audit) on stderr.
    """
    with _reported():
        led = _open(db)
        try:
            found = led.events(kind=kind, stream=stream, after_seq=from_seq - 1, until_seq=to_seq, limit=limit or None)
            if as_json:
                shown = 0
                for ev in found:
                    data = ev.to_dict()
                    if not include_personal:
                        data["payload"] = _redacted(ev.kind, data["payload"])
                    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
                    shown += 1
                if include_personal:
                    import getpass
                    import logging

                    logging.getLogger("accord.audit").warning(
                        "accord events --include-personal: %d events with personal fields printed from %s by %s",
                        shown, led.url, getpass.getuser())
                return
            table = Table("seq")
            table.add_column("kind", no_wrap=True)  # short words a reader scans: never split
            table.add_column("stream")
            for name in ("#", "caused by", "recorded at (UTC)", "leaf hash"):
                table.add_column(name)
            for ev in found:
                table.add_row(str(ev.seq), ev.kind, escape(ev.stream), str(ev.stream_seq), str(ev.caused_by or ""),
                              ev.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), ev.leaf_hash.hex()[:12])
            out.print(table)
        finally:
            led.close()


def _redacted(kind: str, payload: dict) -> dict:
    """``payload`` with the fields its kind's model marks personal replaced by "<redacted>"."""
    from accord.domain import PAYLOAD_MODELS

    model = PAYLOAD_MODELS.get(kind)
    fields = model.personal_fields() if model is not None and hasattr(model, "personal_fields") else ()
    hidden = [f for f in fields if payload.get(f) is not None]
    return {**payload, **{f: "<redacted>" for f in hidden}} if hidden else payload


audit = typer.Typer(help="Check the ledger: verify, prove inclusion or consistency, sign checkpoints.", no_args_is_help=True)


@audit.command("verify")
def verify(
    db: DbOption = None,
    against: Annotated[Optional[list[Path]], typer.Option("--against", help="Also check published checkpoints: a folder of signed notes (audit checkpoint --publish), a note or a JSON file (repeatable).")] = None,  # noqa: UP007
    trusted_key: Annotated[Optional[list[Path]], typer.Option(  # noqa: UP007
        "--trusted-key", help="A public key checkpoints may be signed by (repeatable) "
                              "\\[default: $ACCORD_TRUSTED_KEYS, else the configured signing key]")] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every leaf, the hash chain and the Merkle tree; check every checkpoint against trusted keys;
    name the first bad seq (exit 3 if any).

    Reads one consistent snapshot, so it may run while others append (their events are checked next time).
    """
    with _reported():
        from accord.ledger.signing import trusted_keys

        led = _open(db)
        try:
            from accord.ledger.witness import load

            keys = trusted_keys(led.engine, trusted_key)
            external = load(against or [], keys)
            with progress_bar() as bar:
                task = bar.add_task("verifying", total=None)
                report = led.verify(external, progress=lambda done, total: bar.update(task, completed=done, total=total),
                                    trusted=keys)
        finally:
            led.close()
        if as_json:
            out.print_json(data={"ok": report.ok, "size": report.size, "first_bad_seq": report.first_bad_seq,
                                 "reason": report.reason, "root_hash": report.root_hash.hex(),
                                 "checkpoints_checked": report.checkpoints_checked})
        if not report.ok:
            raise IntegrityError(f"ledger verification FAILED at seq {report.first_bad_seq}: {report.reason}")
        if not as_json:
            out.print(f"[green]ok[/]: {report.size} events, chain and Merkle tree verified, "
                      f"{report.checkpoints_checked} checkpoint(s) matched; root {report.root_hash.hex()}")


@audit.command("prove")
def prove(
    seq: Annotated[int, typer.Argument(min=1, help="Event to prove.")],
    db: DbOption = None,
    size: Annotated[Optional[int], typer.Option(help="Tree size to prove against \\[default: current]")] = None,  # noqa: UP007
) -> None:
    """Print an RFC 6962 inclusion proof (JSON) that event SEQ is in the tree."""
    with _reported():
        led = _open(db)
        try:
            proof = led.prove_inclusion(seq, size)
        finally:
            led.close()
        out.print_json(data={**proof.to_dict(), "verified": proof.verify()})


@audit.command("consistency")
def consistency(
    old_size: Annotated[int, typer.Argument(min=0, help="Size of the older tree (e.g. a checkpoint's).")],
    new_size: Annotated[Optional[int], typer.Argument(help="Size of the newer tree \\[default: current]")] = None,  # noqa: UP007
    db: DbOption = None,
) -> None:
    """Print an RFC 6962 consistency proof (JSON) between two tree sizes."""
    with _reported():
        led = _open(db)
        try:
            proof = led.prove_consistency(old_size, new_size)
        finally:
            led.close()
        out.print_json(data={**proof.to_dict(), "verified": proof.verify()})


@audit.command("checkpoint")
def checkpoint(
    db: DbOption = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Also write the checkpoint JSON here, to publish.")] = None,  # noqa: UP007
    publish: Annotated[Optional[str], typer.Option("--publish", help="Also publish it as a C2SP signed note: a folder, or an http(s) URL to POST it to \\[default: $ACCORD_CHECKPOINT_PUBLISH]", show_default=False)] = None,  # noqa: UP007
) -> None:
    """Sign the current tree head (size, Merkle root) with the ledger's Ed25519 key and print it.

    --publish writes it where the database cannot reach (a witness), in the C2SP tlog-checkpoint
    signed-note format; `audit verify --against FOLDER` checks the ledger against every one there.
    """
    import os

    with _reported():
        from accord.ledger.witness import publish as publish_to

        led = _open(db)
        try:
            cp = led.checkpoint()
        finally:
            led.close()
        data = cp.to_dict()
        if out_file is not None:
            out_file.write_text(json.dumps(data, indent=2) + "\n")
        target = publish or os.environ.get("ACCORD_CHECKPOINT_PUBLISH")
        if target:
            data["published"] = publish_to(cp, target)
        out.print_json(data=data)


@audit.command("key")
def key(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Print the public half of the checkpoint signing key, for verifiers (`audit verify --trusted-key FILE`)."""
    with _reported():
        from accord.ledger.signing import configured_public_key, key_file_for, key_id_of, verifier_key

        led = _open(db)
        try:
            public = configured_public_key(led.engine)
            path = key_file_for(led.engine)
            origin = led.checkpoint_origin()
        finally:
            led.close()
        if public is None:
            raise NotFoundError(f"no signing key at {path}")
        data = {"key_id": key_id_of(public), "public_key": public.hex(), "verifier_key": verifier_key(origin, public)}
        if as_json:
            out.print_json(data=data)
        else:
            sys.stdout.write(data["verifier_key"] + "\n")


@audit.command("rotate-key")
def rotate_key(db: DbOption = None) -> None:
    """Replace the signing key; the old key signs a ledger.key_rotated event naming the new one."""
    with _reported():
        led = _open(db)
        try:
            old, new = led.rotate_key()
        finally:
            led.close()
        out.print(f"signing key {old} handed over to {new} (event ledger.key_rotated, signed by {old}); "
                  "verifiers that trust the old key now trust the new one")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("ingest")(ingest)
    app.command("events")(events)
    app.add_typer(audit, name="audit")

