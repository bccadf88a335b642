"""``accord tokens issue|list|revoke|rotate``: the API tokens agencies call the HTTP API with."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from .support import DbOption, JsonOption, console, err, parse_moment, reported

tokens_app = typer.Typer(help="API tokens: issued per agency with scopes, shown once, stored only as a hash.",
                         no_args_is_help=True)


def _engine(store):  # noqa: ANN001, ANN202
    from accord.api.tokens import ensure_tables

    ensure_tables(store.engine)
    return store.engine


def _show_new(info, token: str, as_json: bool, now) -> None:  # noqa: ANN001
    if as_json:
        console().print_json(json.dumps({**info.to_dict(now), "token": token}))
        return
    out = console()
    out.print(f"token [bold]{info.token_id}[/] for {escape(info.agency_id or 'no agency')} "
              f"(scopes {', '.join(sorted(info.scopes))}; expires {info.expires_at or 'never'}):")
    out.print(token, soft_wrap=True, markup=False, highlight=False)
    err.print("this is the only time the token is shown: Accord keeps only its hash")


@tokens_app.command("issue")
def issue(
    scopes: Annotated[list[str], typer.Option("--scope", help="submit, read, officer, auditor or admin (repeat for several).")],
    agency: Annotated[Optional[str], typer.Option("--agency", help="The agency it acts for (none: an auditor's or admin's token).")] = None,  # noqa: UP007
    expires: Annotated[Optional[str], typer.Option("--expires", help="When it stops working (ISO 8601 date or date-time, UTC when no zone).")] = None,  # noqa: UP007
    label: Annotated[str, typer.Option("--label", help="A note saying whose or what it is for.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a token; it is printed once and stored only as a hash."""
    with reported():
        from datetime import datetime, timezone

        from accord.api import tokens
        from accord.service.store import Store

        now = datetime.now(timezone.utc)
        until = parse_moment(expires, "--expires") if expires else None
        with Store.open(db) as store:
            info, token = tokens.issue(_engine(store), agency, set(scopes), now=now, expires_at=until, label=label)
        _show_new(info, token, as_json, now)


@tokens_app.command("list")
def list_(
    agency: Annotated[Optional[str], typer.Option("--agency", help="Only this agency's tokens.")] = None,  # noqa: UP007
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """The tokens issued (ids, agencies, scopes, states; never the tokens themselves)."""
    with reported():
        from datetime import datetime, timezone

        from accord.api import tokens
        from accord.service.store import Store

        now = datetime.now(timezone.utc)
        with Store.open(db, create=False) as store:
            rows = tokens.list_tokens(_engine(store), agency)
        if as_json:
            console().print_json(json.dumps([r.to_dict(now) for r in rows]))
            return
        t = Table("token id", "agency", "scopes", "state", "expires", "label")
        for r in rows:
            t.add_row(r.token_id, escape(r.agency_id or "-"), " ".join(sorted(r.scopes)), r.state(now),
                      r.expires_at or "never", escape(r.label))
        console().print(t)


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="The token's id (acc_<id>_...).")], db: DbOption = None) -> None:
    """Revoke a token at once: its next request gets 401."""
    with reported():
        from datetime import datetime, timezone

        from accord.api import tokens
        from accord.service.store import Store

        with Store.open(db, create=False) as store:
            info = tokens.revoke(_engine(store), token_id, now=datetime.now(timezone.utc))
        err.print(f"token {info.token_id} revoked at {info.revoked_at}")


@tokens_app.command("rotate")
def rotate(
    token_id: Annotated[str, typer.Argument(help="The token to replace.")],
    grace_minutes: Annotated[int, typer.Option("--grace-minutes", min=0, help="Minutes the old token keeps working.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a new token with the old one's agency, scopes and expiry; revoke the old one (after --grace-minutes)."""
    with reported():
        from datetime import datetime, timedelta, timezone

        from accord.api import tokens
        from accord.service.store import Store

        now = datetime.now(timezone.utc)
        with Store.open(db, create=False) as store:
            info, token = tokens.rotate(_engine(store), token_id, now=now, grace=timedelta(minutes=grace_minutes))
        _show_new(info, token, as_json, now)


@tokens_app.command("purge-keys")
def purge_keys(
    older_than_hours: Annotated[Optional[float], typer.Option(  # noqa: UP007
        "--older-than-hours", min=0.0,
        help="Purge keys created longer ago than this [default: ACCORD_IDEMPOTENCY_RETENTION_HOURS, 168].")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Delete idempotency keys (and the responses kept for their retries) past their retention; the server does this hourly."""
    with reported():
        from datetime import datetime, timezone

        from accord.api import key_retention, tokens
        from accord.service.store import Store
        from accord.settings import get_settings

        hours = get_settings().idempotency_retention_hours if older_than_hours is None else older_than_hours
        now = datetime.now(timezone.utc)
        with Store.open(db, create=False) as store:
            tokens.ensure_tables(store.engine)
            n = key_retention.purge(store, now, hours)
        if as_json:
            typer.echo(json.dumps({"purged": n, "before": key_retention.cutoff(now, hours)}))
        else:
            err.print(f"{n} idempotency key(s) created before {key_retention.cutoff(now, hours)} purged")


def register(app: typer.Typer) -> None:
    app.add_typer(tokens_app, name="tokens")
