from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from helpers.api_world import Api, issue_tokens, register_dmv
from helpers.console_world import add_users, register_other_jail
from helpers.service_world import world

BACKENDS = ["sqlite"] + (["postgres"] if os.environ.get("ACCORD_TEST_DATABASE_URL") else [])


@pytest.fixture
def console_api(tmp_path) -> Iterator[Api]:
    """The app over a fresh SQLite store, a TestClient on a loopback base URL, tokens and console users."""
    from fastapi.testclient import TestClient

    from accord.api.app import create_app
    from accord.service.store import Store
    from accord.settings import Settings

    url = f"sqlite:///{tmp_path}/console.db"
    with Store.open(url) as store:
        world(store)
        register_dmv(store)
        register_other_jail(store)
        app = create_app(Settings(database_url=url, rate_limit="100000/minute", console_lockout_failures=3), store=store)
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
            api = Api(client, store)
            issue_tokens(api)
            add_users(store.engine)
            yield api


def fresh_client(api: Api, base_url: str = "http://127.0.0.1") -> Any:
    from fastapi.testclient import TestClient

    return TestClient(api.client.app, base_url=base_url, raise_server_exceptions=False)
