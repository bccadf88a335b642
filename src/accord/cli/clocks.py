"""``accord clocks``, ``accord worker`` and ``accord webhooks``: the law's clocks, run and shown."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .support import DbOption, JsonOption, console, err, reported

clocks_app = typer.Typer(help="Running holds, notices due and overdue, failed deliveries (and the letters).",
                         invoke_without_command=True)
webhooks_app = typer.Typer(help="Where agencies receive their messages (Standard Webhooks, signed).", no_args_is_help=True)

Opt = Optional[str]  # noqa: UP007 - typer reads Optional


def _left(seconds: float) -> str:
    sign, s = ("-" if seconds < 0 else ""), int(abs(seconds))
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    return f"{sign}{d}d {h:02d}h {rem // 60:02d}m" if d else f"{sign}{h:02d}h {rem // 60:02d}m {rem % 60:02d}s"


@clocks_app.callback()
def clocks_show(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List running holds with the time left, notices due and overdue, and failed deliveries."""
    if ctx.invoked_subcommand is not None:
        return
    with reported():
        from accord.clocks.views import overview
        from accord.service.actors import Actor
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.reading() as r:
            view = overview(r, Actor.operator())
        out = console()
        if as_json:
            out.print_json(view.model_dump_json())
            return
        t = Table("detainer", "booking", "custodian", "hold until (UTC)", "time left", "warned", title="Running holds")
        for h in view.holds:
            t.add_row(escape(h.request_id), escape(h.booking_id), escape(h.custodian_agency_id or ""),
                      h.hold_until.strftime("%Y-%m-%d %H:%M:%S"), _left(h.remaining_seconds), "yes" if h.warned else "")
        out.print(t)
        if view.expired_in_custody:
            t = Table("detainer", "booking", "custodian", "hold ended (UTC)", title="Holds ended, person still in custody: release")
            for e in view.expired_in_custody:
                t.add_row(escape(e.request_id), escape(e.booking_id), escape(e.custodian_agency_id or ""),
                          e.hold_until.strftime("%Y-%m-%d %H:%M:%S") if e.hold_until else "")
            out.print(t)
        t = Table("notice", "kind", "to", "due by (UTC)", "time left", "letter", title="Notices owed")
        for n in view.notices:
            t.add_row(escape(n.notice_id), n.kind, n.recipient, n.due_by.strftime("%Y-%m-%d %H:%M:%S"),
                      "[bold red]overdue[/] " + _left(n.remaining_seconds) if n.overdue else _left(n.remaining_seconds),
                      n.letter or "")
        out.print(t)
        t = Table("message", "type", "to", "attempts", "reason", title="Failed deliveries")
        for f in view.failed:
            t.add_row(f.message_id, f.type, escape(f.agency_id), str(f.attempts), escape(f.reason))
        out.print(t)
        out.print(f"{view.pending_deliveries} deliveries pending; next job "
                  f"{view.next_job_at.isoformat() if view.next_job_at else 'none'}")


@clocks_app.command("letter")
def clocks_letter(
    notice_id: Annotated[str, typer.Argument(help="The notice whose letter to print.")],
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the HTML here (default: stdout).")] = None,  # noqa: UP007
    db: DbOption = None,
) -> None:
    """A notice to the person as a printable HTML letter (as rendered for handing over)."""
    with reported():
        from accord.clocks.views import letter
        from accord.service.actors import Actor
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.reading() as r:
            html = letter(r, Actor.operator(), notice_id)
        if out is None:
            typer.echo(html)
        else:
            out.write_text(html, encoding="utf-8")
            err.print(f"letter written to {out}")


@clocks_app.command("rebuild")
def clocks_rebuild(db: DbOption = None) -> None:
    """Derive the schedule again from the ledger (jobs dropped, every event projected again)."""
    with reported():
        from accord.clocks.schedule_admin import rebuild
        from accord.service.store import Store

        with Store.open(db, create=False) as store:
            jobs = rebuild(store)
        err.print(f"schedule rebuilt from {store.ledger.size:,} events: {jobs:,} jobs")


@clocks_app.command("fire")
def clocks_fire(db: DbOption = None) -> None:
    """Fire the jobs due now and deliver what is due, once (what `accord worker` does continuously)."""
    with reported():
        import asyncio

        from accord.clocks.dispatcher import Dispatcher
        from accord.clocks.scheduler import Scheduler
        from accord.service.store import Store

        with Store.open(db, create=False) as store:
            fired = Scheduler(store).fire_due()
            attempts = asyncio.run(Dispatcher(store).deliver_due())
        err.print(f"{len(fired)} jobs fired, {attempts} delivery attempts")


def worker(
    db: DbOption = None,
    no_scheduler: Annotated[bool, typer.Option("--no-scheduler", help="Only deliver messages.")] = False,
    no_dispatcher: Annotated[bool, typer.Option("--no-dispatcher", help="Only fire jobs.")] = False,
) -> None:
    """Run the scheduler and the dispatcher until stopped (several at once are safe on PostgreSQL)."""
    with reported():
        import os
        import signal
        import threading

        from accord.clocks.runner import Runner
        from accord.service.store import Store

        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        with Store.open(db) as store:
            runner = Runner(store, schedule=not no_scheduler, dispatch=not no_dispatcher).start()
            print(f"accord worker ready (pid {os.getpid()})", flush=True)
            done.wait()
            runner.stop()
            print(f"accord worker stopped: {runner.scheduler.fired} jobs fired, "
                  f"{runner.dispatcher.sent} delivery attempts", flush=True)


@webhooks_app.command("add")
def webhooks_add(
    url: Annotated[str, typer.Argument(help="https:// URL the agency receives webhooks at.")],
    agency_id: Annotated[str, typer.Option("--agency", help="The agency it is for.")],
    types: Annotated[Optional[list[str]], typer.Option("--type", help="An event type to send (repeat; a.* for a family); default all.")] = None,  # noqa: UP007
    description: Annotated[Opt, typer.Option("--description", help="What it is.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a webhook endpoint; its signing secret is shown this once."""
    with reported():
        from accord.clocks.webhooks import register
        from accord.service.actors import Actor
        from accord.service.store import Store

        with Store.open(db) as store, store.transaction() as uow:
            ep = register(uow, Actor.operator(), url, agency_id=agency_id, event_types=types or None, description=description)
        if as_json:
            console().print_json(ep.model_dump_json())
            return
        console().print(f"endpoint [bold]{ep.endpoint_id}[/] for {escape(ep.agency_id)}: {escape(ep.url)}\n"
                        f"signing secret (shown once): {ep.secret}")


@webhooks_app.command("list")
def webhooks_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The registered endpoints (never their secrets)."""
    with reported():
        from accord.clocks.webhooks import list_endpoints
        from accord.service.actors import Actor
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.reading() as r:
            rows = list_endpoints(r, Actor.operator())
        if as_json:
            console().print_json(json.dumps([e.model_dump(mode="json") for e in rows]))
            return
        t = Table("endpoint", "agency", "url", "types", "state")
        for e in rows:
            t.add_row(e.endpoint_id, escape(e.agency_id), escape(e.url), ", ".join(e.event_types or ["all"]),
                      e.state + (f" ({escape(e.disabled_reason)})" if e.disabled_reason else ""))
        console().print(t)


@webhooks_app.command("remove")
def webhooks_remove(endpoint_id: Annotated[str, typer.Argument(help="ep_... to stop sending to.")], db: DbOption = None) -> None:
    """Stop sending to an endpoint."""
    with reported():
        from accord.clocks.webhooks import remove
        from accord.service.actors import Actor
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.transaction() as uow:
            remove(uow, Actor.operator(), endpoint_id)
        err.print(f"endpoint {endpoint_id} removed")


def register(app: typer.Typer) -> None:
    app.add_typer(clocks_app, name="clocks")
    app.add_typer(webhooks_app, name="webhooks")
    app.command("worker")(worker)
