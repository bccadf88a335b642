"""The server's token look-up (``tokens.Lookup``: a kept connection per thread on SQLite) answers as the pooled one.

Nothing about a token is cached: a revocation, an expiry or a rotation made through another
connection (the CLI's) counts from the very next look-up on a connection that is already open.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.api import tokens
from accord.service.store import Store
from helpers.service_world import world

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)


def _answer(engine, token: str, now: datetime, lookup: tokens.Lookup | None):
    try:
        return tokens.authenticate(engine, token, now, lookup=lookup)
    except tokens.TokenRejected as exc:
        return ("rejected", str(exc))


@pytest.fixture
def store(db_url: str):
    with Store.open(db_url) as s:
        world(s)
        tokens.ensure_tables(s.engine)
        yield s


def test_kept_connection_sees_every_change_at_once(store: Store) -> None:
    lookup = tokens.Lookup(store.engine)
    try:
        info, token = tokens.issue(store.engine, "ice", {"submit", "read"}, now=NOW - timedelta(hours=1))
        assert tokens.authenticate(store.engine, token, NOW, lookup=lookup) == info
        tokens.revoke(store.engine, info.token_id, now=NOW - timedelta(minutes=1))
        with pytest.raises(tokens.TokenRejected, match="revoked"):
            tokens.authenticate(store.engine, token, NOW, lookup=lookup)
        other, token2 = tokens.issue(store.engine, "ice", {"read"}, now=NOW - timedelta(hours=1),
                                     expires_at=NOW + timedelta(hours=1))
        assert tokens.authenticate(store.engine, token2, NOW, lookup=lookup).token_id == other.token_id
        with pytest.raises(tokens.TokenRejected, match="expired"):
            tokens.authenticate(store.engine, token2, NOW + timedelta(hours=2), lookup=lookup)
        new, fresh = tokens.rotate(store.engine, other.token_id, now=NOW)
        with pytest.raises(tokens.TokenRejected):
            tokens.authenticate(store.engine, token2, NOW, lookup=lookup)
        assert tokens.authenticate(store.engine, fresh, NOW, lookup=lookup) == new
        seen: list = []  # another thread gets a connection of its own and the same answers
        t = threading.Thread(target=lambda: seen.append((_answer(store.engine, fresh, NOW, lookup),
                                                         _answer(store.engine, token, NOW, lookup))))
        t.start()
        t.join()
        assert seen == [(new, ("rejected", f"token {info.token_id} is revoked"))]
    finally:
        lookup.close()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["active", "revoked", "expired", "revoked_later", "wrong_secret", "unknown",
                                           "malformed"]), st.sampled_from(["ice", "nyc-doc"])), min_size=1, max_size=6))
def test_lookup_answers_as_the_pooled_path(sqlite_url_once: str, cases: list[tuple[str, str]]) -> None:
    with Store.open(sqlite_url_once) as store:
        lookup = tokens.Lookup(store.engine)
        try:
            for state, agency in cases:
                expires = NOW - timedelta(minutes=5) if state == "expired" else None
                info, token = tokens.issue(store.engine, agency, {"read"}, now=NOW - timedelta(hours=1),
                                           expires_at=expires)
                if state == "revoked":
                    tokens.revoke(store.engine, info.token_id, now=NOW - timedelta(seconds=1))
                if state == "revoked_later":
                    tokens.revoke(store.engine, info.token_id, now=NOW + timedelta(seconds=1))
                if state == "wrong_secret":
                    token = token[:-4] + ("aaaa" if not token.endswith("aaaa") else "bbbb")
                if state == "unknown":
                    token = f"acc_{'0' * 12}_{'x' * 43}"
                if state == "malformed":
                    token = "acc_nope"
                assert _answer(store.engine, token, NOW, lookup) == _answer(store.engine, token, NOW, None)
        finally:
            lookup.close()


@pytest.fixture(scope="module")
def sqlite_url_once(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('lookup')}/accord.db"
    with Store.open(url) as store:
        world(store)
        tokens.ensure_tables(store.engine)
    return url


def test_many_threads_share_a_few_kept_connections(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    lookup = tokens.Lookup(store.engine)
    try:
        info, token = tokens.issue(store.engine, "ice", {"read"}, now=NOW - timedelta(hours=1))
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda _: _answer(store.engine, token, NOW, lookup), range(200)))
        assert answers == [info] * 200
        if lookup.shared:  # PostgreSQL: a handful, however many threads ask
            assert 1 <= lookup._made <= tokens.PG_KEPT
        tokens.revoke(store.engine, info.token_id, now=NOW - timedelta(seconds=1))
        with ThreadPoolExecutor(16) as pool:
            after = list(pool.map(lambda _: _answer(store.engine, token, NOW, lookup), range(50)))
        assert after == [("rejected", f"token {info.token_id} is revoked")] * 50
    finally:
        lookup.close()


def test_a_forked_process_opens_its_own_connections_even_when_the_parent_kept_them_all(store: Store) -> None:
    """After a fork the parent's kept connections are not the child's to use: the child leaves them
    and opens its own (it used to count them as made and wait for one of its own forever)."""
    import multiprocessing as mp

    if store.engine.dialect.name != "postgresql":
        pytest.skip("the shared kept connections are PostgreSQL's (SQLite keeps one per thread and per process)")
    _, token = tokens.issue(store.engine, "ice", {"read"}, now=NOW)
    lookup = tokens.Lookup(store.engine)
    try:
        gate, ready = threading.Barrier(tokens.PG_KEPT), []

        def hold() -> None:  # PG_KEPT look-ups at once: the parent makes all it may keep
            gate.wait()
            ready.append(tokens.authenticate(store.engine, token, NOW, lookup=lookup).token_id)

        threads = [threading.Thread(target=hold) for _ in range(tokens.PG_KEPT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(ready) == tokens.PG_KEPT

        def child(out) -> None:  # noqa: ANN001
            out.put(tokens.authenticate(store.engine, token, NOW, lookup=lookup).token_id)

        ctx = mp.get_context("fork")
        out = ctx.Queue()
        proc = ctx.Process(target=child, args=(out,))
        proc.start()
        proc.join(30)
        alive = proc.is_alive()
        if alive:
            proc.kill()
        assert not alive, "the forked process waited for a connection of its own forever"
        assert out.get(timeout=5) == ready[0]
    finally:
        lookup.close()
