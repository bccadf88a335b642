"""``accord users add|list``: the people who sign in to the officers' console (``/console``)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .support import DbOption, JsonOption, Table, console, err, reported

users_app = typer.Typer(help="Console users: officers (one custodian agency) and auditors (read-only, every agency).",
                        no_args_is_help=True)


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="The sign-in name (a-z, 0-9, '.', '_', '-').")],
    role: Annotated[str, typer.Option("--role", help="officer or auditor.")],
    agency: Annotated[Optional[str], typer.Option("--agency", help="An officer's custodian agency (none for an auditor).")] = None,  # noqa: UP007
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")] = False,
    db: DbOption = None,
) -> None:
    """Add a console user; the password is asked for twice (or read from stdin) and kept only as a hash."""
    with reported():
        import sys
        from datetime import datetime, timezone

        from accord.console.users import add_user
        from accord.errors import InputError
        from accord.service import schema
        from accord.service.store import Store

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        if not password:
            raise InputError("no password given", field="password")
        with Store.open(db) as store:
            known = True
            if agency:
                with store.reading() as r:
                    known = r.row(schema.agencies, agency) is not None
            user = add_user(store.engine, username, password, role, agency, datetime.now(timezone.utc),
                            known_agency=known)
        err.print(f"user {escape(user.username)} added ({user.role}"
                  f"{' of ' + escape(user.agency_id) if user.agency_id else ', every agency, read-only'})")


@users_app.command("list")
def list_(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List console users (never their passwords)."""
    with reported():
        from accord.console.users import list_users
        from accord.service.store import Store

        with Store.open(db) as store:
            users = list_users(store.engine)
        if as_json:
            console().print_json(json.dumps([u.to_dict() for u in users]))
            return
        table = Table("user", "role", "agency", "created", "last sign-in", "locked until")
        for u in users:
            table.add_row(u.username, u.role, u.agency_id or "every agency (read-only)", u.created_at,
                          u.last_sign_in_at or "never", u.locked_until or "")
        console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
