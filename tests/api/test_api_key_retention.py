"""Idempotency keys are kept for the retention period and then purged; a retry after that is refused, never recorded twice."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from typer.testing import CliRunner

from helpers.api_world import Api, custody_body

from accord.api import key_retention, schema


def _keys(api: Api) -> int:
    with api.store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(schema.idempotency)).scalar())


def test_a_key_is_replayed_within_its_retention_and_purged_after_it(api: Api) -> None:
    first = api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    assert first.status_code == 201 and _keys(api) == 1
    now = datetime.now(timezone.utc)
    assert key_retention.purge(api.store, now + timedelta(hours=167), hours=168) == 0  # not yet 7 days old
    again = api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    assert again.headers["idempotent-replayed"] == "true" and again.content == first.content
    assert key_retention.purge(api.store, now + timedelta(hours=169), hours=168) == 1
    assert _keys(api) == 0
    size = api.store.ledger.size
    late = api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    # the key is gone, but the booking is not recorded twice: the retry is refused, naming why
    assert late.status_code == 409 and "idempotent-replayed" not in late.headers
    assert api.store.ledger.size == size


def test_the_purge_goes_in_batches_and_keeps_the_young_keys(api: Api) -> None:
    for n in range(1, 8):
        assert api.post("jail", "/v1/custody-records", custody_body(n), key=f"k-{n}").status_code == 201
    t = schema.idempotency
    with api.store.engine.begin() as conn:  # age five of them by ten days
        old = (datetime.now(timezone.utc) - timedelta(days=10)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        conn.execute(t.update().where(t.c.key.in_([f"k-{n}" for n in range(1, 6)])).values(created_at=old))
    assert key_retention.purge(api.store, datetime.now(timezone.utc), hours=168, batch=2) == 5
    with api.store.engine.connect() as conn:
        assert sorted(conn.execute(sa.select(t.c.key)).scalars()) == ["k-6", "k-7"]


def test_purge_keys_command(api: Api, db_url: str) -> None:
    from accord.cli import app

    api.post("jail", "/v1/custody-records", custody_body(1), key="book-1")
    runner = CliRunner()
    kept = runner.invoke(app, ["tokens", "purge-keys", "--db", db_url, "--json"])
    assert kept.exit_code == 0, kept.output
    assert json.loads(kept.stdout)["purged"] == 0 and _keys(api) == 1
    gone = runner.invoke(app, ["tokens", "purge-keys", "--db", db_url, "--older-than-hours", "0", "--json"])
    assert gone.exit_code == 0 and json.loads(gone.stdout)["purged"] == 1 and _keys(api) == 0
    bad = runner.invoke(app, ["tokens", "purge-keys", "--db", db_url, "--older-than-hours", "-1"])
    assert bad.exit_code != 0 and "older-than-hours" in bad.output


def test_an_older_store_gets_the_index_by_migration(sqlite_url: str) -> None:
    from accord.api.tokens import ensure_tables
    from accord.service import migrate
    from accord.service.store import Store

    def index_names(engine) -> set[str]:  # noqa: ANN001
        return {ix["name"] for ix in sa.inspect(engine).get_indexes("api_idempotency")}

    with Store.open(sqlite_url) as store:
        ensure_tables(store.engine)
        with store.engine.begin() as conn:  # the store as a0001 left it: no index, version a0001
            conn.execute(sa.text("DROP INDEX ix_api_idempotency_created_at"))
            conn.execute(sa.text("UPDATE accord_api_version SET version_num = 'a0001'"))
        assert "ix_api_idempotency_created_at" not in index_names(store.engine)
        migrate._current.clear()
        ensure_tables(store.engine)
        assert "ix_api_idempotency_created_at" in index_names(store.engine)
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM accord_api_version")).scalar() == "a0002"


def test_the_server_purges_old_keys_at_start_up(api: Api, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from accord.api import app as app_module

    api.post("jail", "/v1/custody-records", custody_body(1), key="old")
    api.post("jail", "/v1/custody-records", custody_body(2), key="new")
    t = schema.idempotency
    with api.store.engine.begin() as conn:
        old = (datetime.now(timezone.utc) - timedelta(days=8)).isoformat(timespec="microseconds").replace("+00:00", "Z")
        conn.execute(t.update().where(t.c.key == "old").values(created_at=old))
    monkeypatch.setattr(app_module, "COMPONENTS", [key_retention.in_server])
    server = app_module.create_app(api.client.app.state.settings, store=api.store)
    with TestClient(server):  # start-up, then shutdown (the purge thread is stopped and joined)
        pass
    with api.store.engine.connect() as conn:
        assert list(conn.execute(sa.select(t.c.key)).scalars()) == ["new"]
