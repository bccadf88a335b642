"""Helpers of the console tests: the API world (a NYC jail, ICE, ...) plus a second custodian and console users.

``OFFICER`` acts for the NYC jail, ``OTHER`` for a second jail (same law, another custodian),
``AUDITOR`` reads everything. All data is synthetic.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from helpers.service_world import EXAMPLE, JAIL, model

OTHER_JAIL = "other-jail"
PASSWORD = "synthetic-pass-phrase-1"
OFFICER, OTHER, AUDITOR = "olive", "oscar", "audrey"


def register_other_jail(store: Any) -> None:
    from accord.domain import Agency
    from accord.service.actors import Actor
    from accord.service.agencies import register_agency

    data = {**EXAMPLE["receiving_agency"], "agency_id": OTHER_JAIL, "name": "Synthetic Other Jail"}
    with store.transaction() as uow:
        register_agency(uow, Actor.operator(), model(Agency, data), law_pack="nyc_doc")


def add_users(engine: Any) -> None:
    from accord.console.users import add_user

    now = datetime.now(timezone.utc)
    add_user(engine, OFFICER, PASSWORD, "officer", JAIL, now)
    add_user(engine, OTHER, PASSWORD, "officer", OTHER_JAIL, now)
    add_user(engine, AUDITOR, PASSWORD, "auditor", None, now)


def csrf_of(html: str) -> str:
    got = re.search(r'name="csrf" value="([^"]+)"', html)
    assert got, "no CSRF field on the page"
    return got.group(1)


def sign_in(client: Any, user: str, password: str = PASSWORD) -> Any:
    page = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"username": user, "password": password, "csrf": csrf_of(page.text)},
                       follow_redirects=False)


def submit_case(post: Any, n: int) -> None:
    """Book person n at the NYC jail and file ICE's detainer on it, through the JSON API."""
    from helpers.api_world import custody_body, detainer_body

    assert post("jail", "/v1/custody-records", custody_body(n), key=f"b{n}").status_code == 201
    assert post("ice", "/v1/detainers", detainer_body(n), key=f"d{n}").status_code == 201


def as_json(x: Any) -> str:
    return json.dumps(x)
