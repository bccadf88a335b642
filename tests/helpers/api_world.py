"""Helpers of the API tests: the real app over a fresh store (SQLite, and PostgreSQL when configured), with a token per agency.

``api.client`` is Starlette's TestClient (httpx over the app's ASGI interface, lifespan included);
``api.as_("ice")`` gives the headers of ICE's token. The world is tests/helpers/service_world.py:
a NYC jail, ICE and the NYPD, plus a DMV for record requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


from helpers.service_world import EXAMPLE, ICE, JAIL, POLICE, world

DMV = "ny-dmv"


@dataclass
class Api:
    client: Any
    store: Any
    tokens: dict[str, str] = field(default_factory=dict)
    token_ids: dict[str, str] = field(default_factory=dict)

    def as_(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def post(self, who: str, path: str, body: Any, key: str | None = None, **kw: Any) -> Any:
        headers = self.as_(who, **({"Idempotency-Key": f'"{key}"'} if key else {}))
        return self.client.post(path, content=json.dumps(body), headers={**headers, "Content-Type": "application/json"},
                                **kw)

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.as_(who), **kw)


def issue_tokens(api: Api) -> None:
    from accord.api import tokens

    now = datetime.now(timezone.utc)
    for who, agency, scopes in [("jail", JAIL, {"submit", "read", "officer"}), ("ice", ICE, {"submit", "read"}),
                                ("police", POLICE, {"submit", "read"}), ("dmv", DMV, {"submit", "read"}),
                                ("auditor", None, {"auditor"}), ("reader", ICE, {"read"})]:
        info, token = tokens.issue(api.store.engine, agency, scopes, now=now, label=who)
        api.tokens[who], api.token_ids[who] = token, info.token_id


def register_dmv(store: Any) -> None:
    from accord.domain import Agency
    from accord.service.actors import Actor
    from accord.service.agencies import register_agency

    dmv = Agency.model_validate_json(json.dumps({"agency_id": DMV, "name": "NY DMV", "kind": "dmv",
                                                 "jurisdiction": "US-NY"}))
    with store.transaction() as uow:
        register_agency(uow, Actor.operator(), dmv, access_pack="ny_dmv")


def make_api(url: str, **settings: Any) -> Iterator[Api]:
    from fastapi.testclient import TestClient

    from accord.api.app import create_app
    from accord.service.store import Store
    from accord.settings import Settings

    with Store.open(url) as store:
        world(store)
        register_dmv(store)
        app = create_app(Settings(database_url=url, **{"rate_limit": "100000/minute", **settings}), store=store)
        with TestClient(app, raise_server_exceptions=False) as client:
            api = Api(client, store)
            issue_tokens(api)
            yield api


def custody_body(n: int = 1, **changes: Any) -> dict:
    data = json.loads(json.dumps(EXAMPLE["custody"]))
    data.update(booking_id=f"bk-{n}", person_id=f"p-{n}", agency_id=JAIL, **changes)
    return {"custody": data, "person": {"person_id": f"p-{n}", "name": "Synthetic Person Zedekiah",
                                        "birth_date": "1990-01-02", "terrorist_screening_possible_match": False}}


def detainer_body(n: int = 1, *, warrant: bool = True, **changes: Any) -> dict:
    data = json.loads(json.dumps(EXAMPLE["detainer"]))
    data.update(request_id=f"det-{n}", person_id=f"p-{n}", booking_id=f"bk-{n}")
    if not warrant:
        data.pop("judicial_warrant")
    data.update(changes)
    return data


def record_body(n: int = 1, requester: str = POLICE, **changes: Any) -> dict:
    req = {"request_id": f"rr-{n}", "requester_agency_id": requester, "custodian_agency_id": DMV,
           "record_kind": "dmv_standard_license", "subject_person_id": f"p-{n}", "purpose": "criminal_investigation",
           "requested_at": "2024-03-04T15:00:00Z", **changes}
    return {"request": req}
