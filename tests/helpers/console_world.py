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


def current_case(n: int, now: datetime) -> tuple[dict, dict]:
    """The example's booking and detainer for person n, moved so that today is the day after the detainer
    came (the example's dates are in 2024; a server with running clocks would expire its hold at once)."""
    from datetime import timedelta

    from helpers.api_world import custody_body, detainer_body

    def at(delta: timedelta) -> str:
        return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

    day = timedelta(days=1)
    custody = custody_body(n)
    c = custody["custody"]
    c["booked_at"], c["release_eligible_at"] = at(-3 * day), at(3 * day)
    for charge in c["charges"]:
        charge["arrested_at"] = at(-3 * day - timedelta(hours=3))
    for conv in c["convictions"]:
        conv["convicted_on"], conv["incarceration_end"] = at(-7 * 365 * day)[:10], at(-2 * 365 * day)[:10]
    det = detainer_body(n)
    det.update(issued_at=at(-day), received_at=at(-day + timedelta(hours=1)), served_at=at(-day + timedelta(hours=2)))
    det["administrative_warrant"]["signed_on"] = at(-day)[:10]
    det["judicial_warrant"]["issued_on"] = at(-day)[:10]
    return custody, det
