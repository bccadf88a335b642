"""Against a real uvicorn server: oversized headers and bodies, and two workers appending at once."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import httpx
import pytest

from helpers.api_world import custody_body, detainer_body, register_dmv
from helpers.server import running_server
from helpers.service_world import ICE, JAIL, world


def _prepared(url: str) -> dict[str, str]:
    from accord.api import tokens
    from accord.service.store import Store

    with Store.open(url) as store:
        world(store)
        register_dmv(store)
        tokens.ensure_tables(store.engine)
        now = datetime.now(timezone.utc)
        return {who: tokens.issue(store.engine, agency, {"submit", "read", "officer"}, now=now)[1]
                for who, agency in (("jail", JAIL), ("ice", ICE))}


def _raw(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        chunks = []
        while True:
            try:
                data = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def test_huge_headers_and_bodies_get_4xx_and_the_server_keeps_serving(sqlite_url: str) -> None:
    tok = _prepared(sqlite_url)
    with running_server(sqlite_url) as base:
        auth = {"Authorization": f"Bearer {tok['jail']}"}
        r = httpx.get(f"{base}/v1/detainers", headers={**auth, "X-Padding": "p" * 100_000}, timeout=30)
        assert r.status_code == 431 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["field"] == "x-padding"
        # past what the server itself buffers: its own refusal, never a crash
        answer = _raw(base, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * 1_000_000 + b"\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 4"), answer[:100]
        big = b'{"custody": "' + b"a" * (10 * 1024 * 1024) + b'"}'
        r = httpx.post(f"{base}/v1/custody-records", content=big, headers={**auth, "Content-Type": "application/json"},
                       timeout=60)
        assert r.status_code == 413 and r.json()["errors"][0]["field"] == "body"
        r = httpx.post(f"{base}/v1/custody-records", content=b'{"custody": ', headers=auth, timeout=30)
        assert r.status_code == 400
        ok = httpx.post(f"{base}/v1/custody-records", content=json.dumps(custody_body(1)), headers=auth, timeout=30)
        assert ok.status_code == 201
        assert httpx.get(f"{base}/health", timeout=30).json()["status"] == "ok"


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_on_postgresql_keep_one_chain_and_record_each_acknowledged_request_once(postgres_url: str) -> None:
    _two_workers(postgres_url)


def test_two_workers_on_sqlite_keep_one_chain_and_record_each_acknowledged_request_once(sqlite_url: str) -> None:
    """Each worker has its own SO_REUSEPORT socket and they take turns at the write lock (``WriteTurns``)."""
    port = _two_workers(sqlite_url)
    with socket.socket() as s:  # every worker is gone with the server: the port can be bound again
        s.bind(("127.0.0.1", port))


def _two_workers(url: str) -> int:
    tok = _prepared(url)
    n = 60
    with running_server(url, workers=2) as base:
        def submit(i: int) -> list[int]:
            statuses = []
            with httpx.Client(base_url=base, timeout=60) as c:
                for who, path, body, key in (("jail", "/v1/custody-records", custody_body(i), f"b-{i}"),
                                             ("ice", "/v1/detainers", detainer_body(i), f"d-{i}")):
                    headers = {"Authorization": f"Bearer {tok[who]}", "Idempotency-Key": f'"{key}"',
                               "Content-Type": "application/json"}
                    for _ in range(2 if i % 3 == 0 else 1):  # some clients retry: the retry must record nothing
                        statuses.append(c.post(path, content=json.dumps(body), headers=headers).status_code)
            return statuses

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(submit, range(1, n + 1)))
    assert all(set(s) == {201} for s in results), results
    verify = subprocess.run([sys.executable, "-c", "from accord.cli import main; main()", "audit", "verify",
                             "--db", url], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr
    from accord.ledger import Ledger

    with Ledger.open(url) as led:
        booked = [e.payload["booking_id"] for e in led.events(kind="custody.booked")]
        received = [e.payload["request_id"] for e in led.events(kind="detainer.received")]
        decided = [e.caused_by for e in led.events(kind="decision.made")]
    assert sorted(booked) == sorted(f"bk-{i}" for i in range(1, n + 1))
    assert sorted(received) == sorted(f"det-{i}" for i in range(1, n + 1))
    assert len(decided) == len(set(decided)) == n
    return int(base.rsplit(":", 1)[1])
