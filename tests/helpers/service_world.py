"""A small synthetic world for application-layer tests: a NYC jail, ICE, and cases built from the example.

``world(store)`` registers the agencies; ``booking(...)``/``detainer(...)`` build domain objects from
``src/accord/law/examples/nyc_case.json`` with ids and facts changed, so each test names only what
it is about. All data is synthetic.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from accord.domain import Agency, CustodyRecord, DetainerRequest, Person
from accord.service.actors import Actor

EXAMPLE = json.loads((Path(__file__).parents[2] / "src/accord/law/examples/nyc_case.json").read_text())
JAIL, ICE, POLICE = "nyc-doc", "ice", "nypd"


def agencies() -> list[tuple[Agency, str | None]]:
    ice = {"agency_id": ICE, "name": "ICE ERO New York", "kind": "immigration_enforcement", "jurisdiction": "US",
           "primarily_enforces_immigration": True}
    police = {"agency_id": POLICE, "name": "NYPD", "kind": "police", "jurisdiction": "US-NY-NYC"}
    return [(model(Agency, EXAMPLE["receiving_agency"]), "nyc_doc"), (model(Agency, ice), None),
            (model(Agency, police), "nyc_nypd")]


def model(cls: Any, data: dict[str, Any]) -> Any:
    """A strict domain model from JSON-ready data (strict models take enum values only from JSON)."""
    return cls.model_validate_json(json.dumps(data))


def world(store: Any) -> None:
    from accord.service.agencies import register_agency

    with store.transaction() as uow:
        for agency, pack in agencies():
            register_agency(uow, Actor.operator(), agency, law_pack=pack)


def booking(n: int = 1, *, agency_id: str = JAIL, convictions: bool | list[dict[str, Any]] = True,
            **changes: Any) -> tuple[CustodyRecord, Person]:
    data = json.loads(json.dumps(EXAMPLE["custody"]))
    data.update(booking_id=f"bk-{n}", person_id=f"p-{n}", agency_id=agency_id)
    if not convictions:
        data["convictions"] = []
    elif isinstance(convictions, list):
        data["convictions"] = convictions
    data.update(changes)
    return model(CustodyRecord, data), Person(person_id=f"p-{n}", terrorist_screening_possible_match=False)


def detainer(n: int = 1, *, warrant: bool = True, request_id: str | None = None, **changes: Any) -> DetainerRequest:
    data = json.loads(json.dumps(EXAMPLE["detainer"]))
    data.update(request_id=request_id or f"det-{n}", person_id=f"p-{n}", booking_id=f"bk-{n}")
    if not warrant:
        data.pop("judicial_warrant")
    data.update(changes)
    return model(DetainerRequest, data)


def agency_actor(agency_id: str, *scopes: str) -> Actor:
    return Actor(f"agency:{agency_id}", agency_id, frozenset(scopes or ("submit", "read")))


T0 = datetime(2024, 3, 4, 12, tzinfo=timezone.utc)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)
