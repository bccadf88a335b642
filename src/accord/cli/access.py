"""``accord access check|check-batch|policies`` and ``accord notices due|sent``: record requests and notices."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from .support import SafeConsole
from rich.markup import escape

from accord.errors import InputError

from .support import Table, DbOption, JsonOption, err, parse_date, parse_moment as _moment, progress_bar, read_model
from .support import reported as _reported

PackOption = Annotated[Optional[str], typer.Option(  # noqa: UP007
    "--pack", help="Pack id or directory \\[default: the pack whose custodian holds the records]", show_default=False)]

out = SafeConsole()
access = typer.Typer(help="Decide requests for protected records (Cedar policies per law).", no_args_is_help=True)
notices = typer.Typer(help="Notices the law owes people whose records were asked for.", no_args_is_help=True)



def _read_request(path: Path):
    from accord.access.model import AccessRequest

    return read_model(AccessRequest, path)


def _pack_for(pack: str | None, custodian_id: str):
    from accord.access.packs import load_pack, pack_for_custodian

    return load_pack(pack) if pack is not None else pack_for_custodian(custodian_id)


@access.command("check")
def check(
    request_file: Annotated[Path, typer.Argument(metavar="REQUEST.json", help='{"request": RecordRequest, "requester": Agency}')],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Decide under the law in force on this date \\[default: the request's date].")] = None,  # noqa: UP007
    db: DbOption = None,
    record: Annotated[bool, typer.Option("--record/--no-record", help="Write the request, decision and notices to the ledger.")] = True,
    pack: PackOption = None,
    as_json: JsonOption = False,
) -> None:
    """Decide one record request, explain it, and record it with the notices it owes."""
    with _reported():
        from accord.access.gateway import Gateway

        areq = _read_request(request_file)
        gw = Gateway(_pack_for(pack, areq.request.custodian_agency_id))
        decision = gw.check(areq, parse_date(as_of, "--as-of"))
        recorded = None
        if record:
            from accord.service.access_events import record_decision
            from accord.service.store import Store

            with Store.open(db) as store:
                recorded = record_decision(store, areq, decision)
        if as_json:
            data = decision.model_dump(mode="json")
            if recorded is not None:
                data["ledger"] = {"requested_seq": recorded.requested_seq, "decided_seq": recorded.decided_seq,
                                  "notice_seqs": list(recorded.notice_seqs)}
            out.print_json(json.dumps(data))
            return
        colour = "green" if decision.allowed else "red"
        out.print(f"[bold {colour}]{decision.outcome.upper()}[/] {escape(decision.action)} of "
                  f"{escape(decision.record_kind)} by {escape(decision.requester_agency_id)} "
                  f"(pack {decision.pack} {decision.pack_version}, law of {decision.as_of})")
        for p in decision.deciding:
            out.print(f"  [bold]{escape(p.citation)}[/] ({escape(p.id)}): {escape(p.explanation)}")
        for e in decision.errors:
            out.print(f"  [red]evaluation error:[/] {escape(e)}")
        for o in decision.obligations:
            status = "recorded with this decision" if o.fulfilled_by_record else f"due by {o.due_by:%Y-%m-%d %H:%M} UTC"
            out.print(f"  owes {o.kind.value} to {o.recipient.value}: {status} ({escape(o.citation)})")
        if recorded is not None:
            out.print(f"  ledger: request #{recorded.requested_seq}, decision #{recorded.decided_seq}"
                      + (f", notices {', '.join(f'#{s}' for s in recorded.notice_seqs)}" if recorded.notice_seqs else ""))


@access.command("check-batch")
def check_batch(
    requests_file: Annotated[Path, typer.Argument(metavar="REQUESTS.jsonl", help='One {"request": ..., "requester": ...} per line.')],
    db: DbOption = None,
    pack: PackOption = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Decision processes \\[default: 2 on 2 cores, one per core but one on more, 0 on one core; 0: this process].", show_default=False)] = None,  # noqa: UP007
    chunk: Annotated[int, typer.Option("--chunk", help="Requests per transaction.")] = 1000,
    block_size: Annotated[int, typer.Option("--block", help="Requests held in memory at once (workers are started per block).")] = 50_000,
    as_json: JsonOption = False,
) -> None:
    """Decide and record a file of record requests, each with its decision and notices.

    Every line is checked first: a file with any bad line is refused whole, each bad line named.

    Then chunks are decided in parallel and committed in file order, one transaction each; at most
    --block requests are held in memory at once.

    Requests already in the ledger are skipped, so an interrupted run can simply be run again.
    """
    with _reported():
        from accord.service.bulk_access import BulkResult, audit_requests
        from accord.service.request_file import check_requests, request_blocks
        from accord.service.store import Store

        if block_size < 1:
            raise InputError("must be at least 1", field="--block")
        bar = progress_bar()
        checking = bar.add_task(f"checking {requests_file.name}", total=None)
        bar.start()
        try:
            total = check_requests(requests_file, on_line=lambda n: n % 5000 or bar.update(checking, completed=n))
        finally:
            bar.stop()
        bar.update(checking, visible=False)
        task = bar.add_task(f"deciding {requests_file.name}", total=total)
        committed = [0]

        def advance(n: int) -> None:
            # The bar is stopped while a block's workers are forked (its refresh thread must not be
            # copied into a child mid-draw) and started again at the block's first commit.
            if not bar.live.is_started:
                bar.start()
            committed[0] += n
            bar.advance(task, n)

        results = []
        try:
            with Store.open(db) as store:
                for block, lines in request_blocks(requests_file, block_size):
                    bar.stop()
                    results.append(audit_requests(store, block, pack=pack, workers=workers, chunk=chunk, on_chunk=advance,
                                                  source=requests_file.name, lines=lines))
        except KeyboardInterrupt:
            bar.stop()
            err.print(f"interrupted: {committed[0]:,} requests were recorded in whole chunks, the rest none; "
                      "run the same command again to finish (recorded requests are skipped)")
            raise typer.Exit(130) from None
        finally:
            bar.stop()
        result = BulkResult.combined(results)
        if as_json:
            out.print_json(json.dumps({"requests": result.requests, "recorded": result.recorded,
                                       "skipped": len(result.skipped), "allowed": result.allowed,
                                       "denied": result.denied, "notices": result.notices, "events": result.events,
                                       "first_seq": result.first_seq, "last_seq": result.last_seq,
                                       "workers": result.workers}))
            return
        out.print(f"{result.recorded:,} requests recorded ([green]{result.allowed:,} allowed[/], "
                  f"[red]{result.denied:,} denied[/]), {result.notices:,} notices owed, "
                  f"{result.events:,} ledger events"
                  + (f" #{result.first_seq}-#{result.last_seq}" if result.events else ""))
        if result.skipped:
            out.print(f"{len(result.skipped):,} requests already in the ledger were skipped")


@access.command("policies")
def policies(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Show the policies in force on this date \\[default: today].")] = None,  # noqa: UP007
    pack: Annotated[Optional[str], typer.Option("--pack", help="One pack \\[default: all].")] = None,  # noqa: UP007
    as_json: JsonOption = False,
) -> None:
    """List the policies in force on a date, with citations and effective dates."""
    with _reported():
        from accord.access.packs import list_packs, load_pack

        on = parse_date(as_of, "--as-of") or date.today()
        rows = []
        for name in [pack] if pack else list_packs():
            p = load_pack(name)
            w = p.window(on)
            for pol in w.policies:
                rows.append({"pack": p.id, "id": pol.id, "effect": "obligation" if pol.obligation else pol.effect,
                             "citation": pol.citation, "effective_from": str(pol.effective_from),
                             "effective_to": str(pol.effective_to) if pol.effective_to else None,
                             "explanation": pol.explanation, "legal_note": pol.legal_note})
        if as_json:
            out.print_json(json.dumps(rows))
            return
        table = Table(title=f"Policies in force on {on}")
        for col in ("pack", "id", "effect", "citation", "from", "to"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["pack"], r["id"], r["effect"], r["citation"], r["effective_from"], r["effective_to"] or "")
        out.print(table)


@notices.command("due")
def due(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Judge overdue at this moment \\[default: now].")] = None,  # noqa: UP007
    overdue: Annotated[bool, typer.Option("--overdue", help="Only notices past their deadline.")] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Notices owed and not yet sent: who is owed what, by when. Overdue ones are counted."""
    with _reported():
        from accord.service.actors import Actor
        from accord.service.notices import count_notices, list_notices
        from accord.service.store import Store

        moment = _moment(as_of, "--as-of")
        me = Actor.operator()
        with Store.open(db, create=False, clock=lambda: moment) as store, store.reading() as r:
            shown = list_notices(r, me, overdue_at=moment if overdue else None, limit=10**9)
            counts = count_notices(r, me, moment)
            people = _notice_people(store, shown)
        if as_json:
            out.print_json(json.dumps({
                "as_of": moment.isoformat(), "open": counts["owed"], "overdue": counts["overdue"], "sent": counts["sent"],
                "discharged": counts["discharged"], "notices": [{**people[n.notice_id], "overdue": n.overdue, "due_seq": n.due_seq} for n in shown]}))
            return
        table = Table(title=f"Notices owed as of {moment:%Y-%m-%d %H:%M %Z}")
        for col in ("notice", "to", "person", "request", "due by (UTC)", "citation", ""):
            table.add_column(col)
        for n in shown:
            table.add_row(escape(n.notice_id), n.recipient, escape(people[n.notice_id].get("person_id") or "(all subjects)"),
                          escape(n.about_request_id), f"{n.due_by:%Y-%m-%d %H:%M}", escape(n.citation),
                          "[bold red]OVERDUE[/]" if n.overdue else "")
        out.print(table)
        out.print(f"{counts['owed']} open, [bold red]{counts['overdue']} overdue[/], {counts['sent']} sent, "
                  f"{counts['discharged']} no longer owed (the detainer closed)")


def _notice_people(store, shown) -> dict:  # noqa: ANN001
    """Per shown notice, its notice.due payload (the person it is owed to, business days, ...)."""
    return {n.notice_id: store.ledger.get(n.due_seq).payload for n in shown}


@notices.command("sent")
def sent(
    notice_id: Annotated[str, typer.Argument(metavar="ID", help="The notice id (from `accord notices due`).")],
    at: Annotated[Optional[str], typer.Option("--at", help="When it was sent \\[default: now].")] = None,  # noqa: UP007
    channel: Annotated[str, typer.Option("--channel", help="How it was sent (mail, email, ...).")] = "mail",
    db: DbOption = None,
) -> None:
    """Record that a notice was sent."""
    with _reported():
        from accord.service.actors import Actor
        from accord.service.notices import mark_sent
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.transaction() as uow:
            sent = mark_sent(uow, Actor.operator(), notice_id, _moment(at, "--at"), channel)
        out.print(f"notice {escape(notice_id)} recorded as sent (event #{sent.sent_seq})")


def register(app: typer.Typer) -> None:
    app.add_typer(access, name="access")
    app.add_typer(notices, name="notices")
