"""Use cases of the agency registry: who the agencies are and which law decides for each.

The registry is the custodian's, not the requester's: a record request is judged on the
requester's profile as registered here (its kind, certifications, agreements), never on what the
request says about itself, so an agency cannot declare itself "not immigration enforcement".
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from accord.domain import Agency, AgencyConfig
from accord.domain.events import EventKind
from accord.errors import InputError, NotFoundError
from accord.ledger import NewEvent

from . import schema
from .actors import Actor
from .store import UnitOfWork
from .views import AgencyView, agency_view


def _check_packs(law_pack: str | None, access_pack: str | None) -> None:
    if law_pack is not None:
        from accord.law.pack import list_packs

        if law_pack not in list_packs():
            raise InputError(f"unknown law pack {law_pack!r}; choose one of {', '.join(list_packs())}", field="law_pack")
    if access_pack is not None:
        from accord.access.packs import list_packs as access_packs

        if access_pack not in access_packs():
            raise InputError(f"unknown access pack {access_pack!r}; choose one of {', '.join(access_packs())}",
                             field="access_pack")


def register_agency(uow: UnitOfWork, actor: Actor, agency: Agency, *, law_pack: str | None = None,
                    access_pack: str | None = None) -> AgencyView:
    """Register (or re-register, with a new profile) an agency, and the packs that decide for it."""
    actor.require("admin")
    _check_packs(law_pack, access_pack)
    old = uow.row(schema.agencies, agency.agency_id)
    events = []
    if old is None or _profile(uow, old) != agency:
        events.append(NewEvent(EventKind.AGENCY_REGISTERED.value, agency))
    if old is None or (old["law_pack"], old["access_pack"]) != (law_pack, access_pack):
        events.append(NewEvent(EventKind.AGENCY_CONFIGURED.value, AgencyConfig(
            agency_id=agency.agency_id, law_pack=law_pack, access_pack=access_pack, recorded_by=actor.id)))
    if events:
        uow.append(events)
    return agency_view(uow.row(schema.agencies, agency.agency_id))


def _profile(uow: Any, row: dict[str, Any]) -> Agency | None:
    ev = uow.event(row["registered_seq"])
    return None if ev is None else Agency.model_validate_json(ev.payload_json)


def agency_profile(reader: Any, agency_id: str, field: str = "agency_id") -> Agency:
    """The registered profile of ``agency_id`` (an InputError naming ``field`` when there is none)."""
    row = reader.row(schema.agencies, agency_id)
    profile = None if row is None else _profile(reader, row)
    if profile is None:
        raise InputError(f"agency {agency_id} is not registered", field=field)
    return profile


def get_agency(reader: Any, actor: Actor, agency_id: str) -> AgencyView:
    row = reader.row(schema.agencies, agency_id)
    if row is None or not actor.may_see(agency_id):
        raise NotFoundError(f"no agency {agency_id}", field="agency_id")
    return agency_view(row)


def list_agencies(reader: Any, actor: Actor) -> list[AgencyView]:
    t = schema.agencies
    q = sa.select(t).order_by(t.c.agency_id)
    if not actor.sees_all:
        q = q.where(t.c.agency_id == actor.agency_id)
    return [agency_view(dict(r)) for r in reader.connection.execute(q).mappings()]
