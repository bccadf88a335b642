"""Group commit behind a real ``accord serve``: many clients at once, and SIGKILL while they are answered.

Concurrent POSTs are written in shared durable transactions (``accord.service.group``): every
request must still be recorded once (twice-sent keys once), and a request the server acknowledged
must be in the ledger after the server is killed with SIGKILL at an arbitrary moment, its
Idempotency-Key with it (a retry after the restart is a replay, not a second record).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from helpers.api_world import custody_body, detainer_body
from helpers.server import Server, running_server

from .test_api_server import _prepared


def _post(c: httpx.Client, tok: str, path: str, body: dict, key: str) -> httpx.Response:
    return c.post(path, content=json.dumps(body), headers={"Authorization": f"Bearer {tok}", "Content-Type":
                  "application/json", "Idempotency-Key": f'"{key}"'})


def _verify_cli(url: str) -> None:
    verify = subprocess.run([sys.executable, "-c", "from accord.cli import main; main()", "audit", "verify",
                             "--db", url], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr


def test_fifty_concurrent_clients_each_recorded_once_and_a_repeated_key_once(db_url: str) -> None:
    tok = _prepared(db_url)
    n = 50
    with running_server(db_url) as base:
        start = threading.Barrier(n)

        def submit(i: int) -> tuple[list[int], str]:
            with httpx.Client(base_url=base, timeout=120) as c:
                start.wait(60)
                # clients 2k and 2k+1 send the same booking under the same key at once: one record
                b = _post(c, tok["jail"], "/v1/custody-records", custody_body(i // 2), f"b-{i // 2}")
                statuses = [b.status_code]
                if i % 2 == 0:
                    statuses.append(_post(c, tok["ice"], "/v1/detainers", detainer_body(i // 2),
                                          f"d-{i // 2}").status_code)
                return statuses, b.text

        with ThreadPoolExecutor(n) as pool:
            results = list(pool.map(submit, range(n)))
    assert all(set(s) == {201} for s, _ in results), results
    for i in range(0, n, 2):  # the twin got the first response (a replay), byte for byte
        assert json.loads(results[i][1]) == json.loads(results[i + 1][1])
    _verify_cli(db_url)
    from accord.ledger import Ledger

    with Ledger.open(db_url) as led:
        booked = [e.payload["booking_id"] for e in led.events(kind="custody.booked")]
        decided = [e.caused_by for e in led.events(kind="decision.made")]
    assert sorted(booked) == sorted(f"bk-{i}" for i in range(n // 2))
    assert len(decided) == len(set(decided)) == n // 2


def test_a_request_acknowledged_before_sigkill_is_in_the_ledger_after_it(sqlite_url: str) -> None:
    tok = _prepared(sqlite_url)
    server = Server(sqlite_url)
    server.wait_ready()
    acked: list[tuple[str, str, dict, str, str]] = []  # (who, path, body, key, response text)
    lock = threading.Lock()
    stop = threading.Event()

    def client(k: int) -> None:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            for j in range(10_000):
                if stop.is_set():
                    return
                i = k * 10_000 + j
                for who, path, body, key in (("jail", "/v1/custody-records", custody_body(i), f"b-{i}"),
                                             ("ice", "/v1/detainers", detainer_body(i), f"d-{i}")):
                    try:
                        r = _post(c, tok[who], path, body, key)
                    except httpx.HTTPError:
                        return  # the server is gone: whatever was not answered may or may not be recorded
                    if r.status_code != 201:
                        return
                    with lock:
                        acked.append((who, path, body, key, r.text))

    with ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(client, k) for k in range(12)]
        deadline = time.monotonic() + 120
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()  # mid-stream: requests in flight, a group being written
        stop.set()
        for f in futures:
            f.result(timeout=60)
    assert len(acked) >= 60, "the server acknowledged too few requests before the deadline"
    _verify_cli(sqlite_url)
    from accord.ledger import Ledger

    with Ledger.open(sqlite_url) as led:
        booked = {e.payload["booking_id"]: e.seq for e in led.events(kind="custody.booked")}
        received = {e.payload["request_id"]: e.seq for e in led.events(kind="detainer.received")}
        decided = {e.caused_by for e in led.events(kind="decision.made")}
    for _, path, body, _, text in acked:
        answer = json.loads(text)
        if path == "/v1/custody-records":
            assert booked.get(body["custody"]["booking_id"]) == answer["booked_seq"]
        else:
            assert received.get(body["request_id"]) == answer["detainer_seq"]
            assert answer["detainer_seq"] in decided
    # the keys were durable with the events: after a restart, a retry of an acknowledged request is a replay
    again = Server(sqlite_url)
    try:
        again.wait_ready()
        with httpx.Client(base_url=again.base, timeout=30) as c:
            for who, path, body, key, text in acked[-6:]:
                r = _post(c, tok[who], path, body, key)
                assert r.status_code == 201 and r.headers.get("idempotent-replayed") == "true"
                assert json.loads(r.text) == json.loads(text)
    finally:
        again.stop()
    with Ledger.open(sqlite_url) as led:
        assert sum(1 for _ in led.events(kind="custody.booked")) == len(booked)
