"""Webhook secrets are sealed at rest: the database never holds one in clear, and only this server's key opens it.

Whoever reads the endpoints table (a dump, a backup, SQL access) must not be able to sign messages
an agency trusts. The secret shown at registration still signs every delivery (a receiver using
the Standard Webhooks reference library verifies it); a row from before sealing is sealed when
the store opens; a host without the key sends nothing, says which key it needs, and delivers once
the key is copied in.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from standardwebhooks.webhooks import Webhook

from accord.clocks import schema, sealing
from accord.clocks.webhooks import register
from accord.ledger.signing import KeyError_
from accord.service.store import Store
from helpers.receiver import Receiver
from helpers.service_world import ICE, agency_actor, world

from .test_clocks_webhooks import _deliver, _deliveries, _detain

ice = agency_actor(ICE)


@pytest.fixture(autouse=True)
def fresh_keys():
    sealing._key.cache_clear()
    yield
    sealing._key.cache_clear()


def _open(url: str) -> Store:
    store = Store.open(url, clock=lambda: datetime.now(timezone.utc))
    world(store)
    return store


def _stored(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(schema.endpoints.c.endpoint_id, schema.endpoints.c.secret)).all())


def test_the_table_holds_no_secret_in_clear_and_deliveries_verify_with_the_one_shown(db_url: str) -> None:
    with Receiver() as rx, _open(db_url) as store:
        with store.transaction() as uow:
            ep = register(uow, ice, rx.url + "/ice")
        kept = _stored(store)[ep.endpoint_id]
        assert kept.startswith(sealing.SEALED) and ep.secret not in kept and ep.secret.removeprefix("whsec_") not in kept
        key = sealing.key_file(store.engine)
        assert key.exists() and oct(key.stat().st_mode & 0o777) == "0o600"
        _detain(store)
        assert _deliver(store) == 1
        (got,) = rx.got
        assert Webhook(ep.secret).verify(got.body, got.headers)["type"] == "detainer.decided"


def test_a_sealed_secret_opens_only_on_its_own_endpoint(sqlite_url: str) -> None:
    with _open(sqlite_url) as store:
        with store.transaction() as uow:
            a = register(uow, ice, "http://127.0.0.1:9/a", allow_loopback=True)
            b = register(uow, ice, "http://127.0.0.1:9/b", allow_loopback=True)
        kept = _stored(store)
        assert sealing.unseal(sealing.key_file(store.engine), a.endpoint_id, kept[a.endpoint_id]) == a.secret
        with pytest.raises(sealing.SealError, match="register the endpoint again"):
            sealing.unseal(sealing.key_file(store.engine), b.endpoint_id, kept[a.endpoint_id])  # copied onto another row


def test_a_secret_kept_in_clear_by_an_older_version_is_sealed_when_the_store_opens(db_url: str) -> None:
    with _open(db_url) as store:
        with store.transaction() as uow:
            ep = register(uow, ice, "http://127.0.0.1:9/a", allow_loopback=True)
        e = schema.endpoints
        with store.engine.begin() as conn:  # as an older version wrote it
            conn.execute(e.update().where(e.c.endpoint_id == ep.endpoint_id).values(secret=ep.secret))
        assert _stored(store)[ep.endpoint_id] == ep.secret
    with _open(db_url) as store:
        kept = _stored(store)[ep.endpoint_id]
        assert kept.startswith(sealing.SEALED)
        assert sealing.unseal(sealing.key_file(store.engine), ep.endpoint_id, kept) == ep.secret


def test_a_host_without_the_key_sends_nothing_says_which_key_it_needs_and_delivers_once_it_has_it(db_url: str) -> None:
    with Receiver() as rx, _open(db_url) as store:
        with store.transaction() as uow:
            ep = register(uow, ice, rx.url + "/ice")
        path = sealing.key_file(store.engine)
        wanted = sealing.key_id(base64.b64decode(path.read_bytes().strip()))
        assert _stored(store)[ep.endpoint_id].startswith(f"{sealing.SEALED}{wanted}:")
        kept = path.read_bytes()
        path.unlink()  # this host has no copy of the key file (another host registered the endpoint)
        sealing._key.cache_clear()
        _detain(store)
        _deliver(store)
        (d,) = _deliveries(store)
        assert d["state"] == schema.PENDING and f"no webhook key at {path}" in d["last_error"] and wanted in d["last_error"]
        assert rx.got == [] and not path.exists()  # nothing sent, and no other key made in its place

        path.write_bytes(base64.b64encode(bytes(32)) + b"\n")  # another key
        os.chmod(path, 0o600)
        sealing._key.cache_clear()
        with store.engine.begin() as conn:  # due again now
            conn.execute(schema.deliveries.update().values(next_attempt_at="2000-01-01T00:00:00.000000Z"))
        _deliver(store)
        (d,) = _deliveries(store)
        assert d["state"] == schema.PENDING and f"sealed with webhook key {wanted}" in d["last_error"]

        path.write_bytes(kept)  # the right key copied in: delivered, nothing lost
        sealing._key.cache_clear()
        with store.engine.begin() as conn:
            conn.execute(schema.deliveries.update().values(next_attempt_at="2000-01-01T00:00:00.000000Z"))
        assert _deliver(store) == 1
        (d,) = _deliveries(store)
        assert d["state"] == schema.DELIVERED and len(rx.got) == 1
        assert Webhook(ep.secret).verify(rx.got[0].body, rx.got[0].headers)


def test_a_key_file_others_may_read_is_refused(sqlite_url: str, tmp_path, monkeypatch) -> None:
    key = tmp_path / "hooks.key"
    key.write_text("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    os.chmod(key, 0o644)
    monkeypatch.setenv(sealing.KEY_FILE_ENV, str(key))
    with _open(sqlite_url) as store:
        with pytest.raises(KeyError_, match="webhook key may be read by others"), store.transaction() as uow:
            register(uow, ice, "http://127.0.0.1:9/a", allow_loopback=True)
        assert _stored(store) == {}
