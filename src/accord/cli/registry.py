"""``accord agencies add|list`` and ``accord projections rebuild``: the agency registry and the read model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape

from .support import Table, DbOption, JsonOption, console, err, read_model, reported

agencies_app = typer.Typer(help="The agencies Accord knows, and which law decides for each.", no_args_is_help=True)
projections_app = typer.Typer(help="The service's read model of current state (rebuilt from the ledger).",
                              no_args_is_help=True)

Opt = Optional[str]  # noqa: UP007 - typer reads Optional


@agencies_app.command("add")
def agencies_add(
    agency_file: Annotated[Optional[Path], typer.Argument(metavar="[AGENCY.json]",  # noqa: UP007
                                                          help="An Agency as JSON (or give --id, --name, --kind, --jurisdiction).")] = None,
    agency_id: Annotated[Opt, typer.Option("--id", help="Agency id, e.g. nyc-doc.")] = None,
    name: Annotated[Opt, typer.Option("--name", help="Its name.")] = None,
    kind: Annotated[Opt, typer.Option("--kind", help="corrections, police, sheriff, dmv, immigration_enforcement, ...")] = None,
    jurisdiction: Annotated[Opt, typer.Option("--jurisdiction", help="e.g. US-NY-NYC.")] = None,
    immigration: Annotated[bool, typer.Option("--immigration", help="It primarily enforces immigration law.")] = False,
    law_pack: Annotated[Opt, typer.Option("--law-pack", help="The law pack that decides detainers it receives (see `accord packs list`).")] = None,
    access_pack: Annotated[Opt, typer.Option("--access-pack", help="The access pack that decides requests for its records.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an agency (or update its profile and packs); recorded in the ledger."""
    with reported():
        from accord.domain import Agency
        from accord.errors import InputError
        from accord.service.actors import Actor
        from accord.service.agencies import register_agency
        from accord.service.store import Store

        if agency_file is not None:
            agency = read_model(Agency, agency_file)
        else:
            given = {"agency_id": agency_id, "name": name, "kind": kind, "jurisdiction": jurisdiction}
            missing = [f"--{k.replace('agency_', '')}" for k, v in given.items() if v is None]
            if missing:
                raise InputError(f"give AGENCY.json or {', '.join(missing)}", field=missing[0])
            from pydantic import ValidationError

            from .support import validation_error

            try:
                agency = Agency.model_validate_json(json.dumps({**given, "primarily_enforces_immigration": immigration}))
            except ValidationError as exc:
                raise validation_error(exc, "options") from None
        with Store.open(db) as store, store.transaction() as uow:
            view = register_agency(uow, Actor.operator(), agency, law_pack=law_pack, access_pack=access_pack)
        if as_json:
            console().print_json(view.model_dump_json())
            return
        console().print(f"agency [bold]{escape(view.agency_id)}[/] registered ({escape(view.kind)}, {view.jurisdiction}); "
                        f"law pack {view.law_pack or '-'}, access pack {view.access_pack or '-'}")


@agencies_app.command("list")
def agencies_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """The registered agencies and their packs."""
    with reported():
        from accord.service.actors import Actor
        from accord.service.agencies import list_agencies
        from accord.service.store import Store

        with Store.open(db, create=False) as store, store.reading() as r:
            rows = list_agencies(r, Actor.operator())
        out = console()
        if as_json:
            out.print_json(json.dumps([v.model_dump(mode="json") for v in rows]))
            return
        t = Table("agency", "name", "kind", "jurisdiction", "law pack", "access pack")
        for v in rows:
            t.add_row(escape(v.agency_id), escape(v.name), v.kind, v.jurisdiction, v.law_pack or "", v.access_pack or "")
        out.print(t)


@projections_app.command("rebuild")
def projections_rebuild(db: DbOption = None) -> None:
    """Drop the read model and project every ledger event again (the ledger is the truth)."""
    with reported():
        from accord.service.store import Store

        from .support import progress_bar

        with Store.open(db, create=False) as store, progress_bar() as bar:
            task = bar.add_task("projecting", total=store.ledger.size)
            store.on_catch_up = lambda done, total: bar.update(task, completed=done, total=total)
            n = store.rebuild()
        err.print(f"read model rebuilt from {n:,} events")


def register(app: typer.Typer) -> None:
    app.add_typer(agencies_app, name="agencies")
    app.add_typer(projections_app, name="projections")
