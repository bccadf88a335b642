"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

Every operation gets generated requests (valid and invalid bodies, parameters, headers) with a
valid token; every response must be documented (status, content type, schema) and none a 5xx.
At least 1,000 requests are made in all (the last test checks the count).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)
from schemathesis.checks import not_a_server_error

from helpers.api_world import register_dmv
from helpers.service_world import ICE, world

CALLS = {"n": 0}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    from accord.api import tokens
    from accord.api.app import create_app
    from accord.service.store import Store
    from accord.settings import Settings

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'accord.db'}"
    with Store.open(url) as store:
        world(store)
        register_dmv(store)
        app = create_app(Settings(database_url=url, rate_limit="1000000/minute"), store=store)
        _, token = tokens.issue(store.engine, ICE, {"submit", "read", "officer"}, now=datetime.now(timezone.utc))
        store.ledger.checkpoint()
        yield schemathesis.openapi.from_asgi("/openapi.json", app), token


def _operations(schema: object) -> list:
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[attr-defined]


def test_every_response_is_documented_and_none_is_a_server_error(fuzzed: tuple) -> None:
    """Each operation of the document, fuzzed in turn (``schemathesis.pytest.from_fixture`` does not run
    on pytest 9, so the operations' Hypothesis strategies are driven here directly)."""
    schema, token = fuzzed
    operations = _operations(schema)
    assert len(operations) >= 17
    failures = []
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=90, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case) -> None:
            CALLS["n"] += 1
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
    print(f"schemathesis: {CALLS['n']} generated requests over {len(operations)} operations")
    assert CALLS["n"] >= 1000, CALLS
