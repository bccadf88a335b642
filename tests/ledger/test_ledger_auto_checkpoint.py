"""A checkpoint is signed (and published to the witness) every N events or M minutes, so the tail
no witnessed checkpoint covers stays bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from typer.testing import CliRunner

from accord.cli import app
from accord.ledger import Ledger, NewEvent
from accord.ledger.signing import key_file_for


def _batch(n: int, start: int) -> list[NewEvent]:
    return [NewEvent("decision.made", {"n": i}, stream="detainer/D-1") for i in range(start, start + n)]


def test_every_n_events_a_checkpoint_is_signed_and_published(db_url: str, tmp_path: Path, monkeypatch) -> None:
    witness = tmp_path / "witness"
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_EVENTS", "50")
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_MINUTES", "0")
    monkeypatch.setenv("ACCORD_CHECKPOINT_PUBLISH", str(witness))
    led = Ledger.open(db_url)
    for start in range(0, 120, 10):
        led.append_many(_batch(10, start))
    assert [cp.size for cp in led.checkpoints()] == [50, 100]
    assert len(list(witness.glob("0*.checkpoint"))) == 2 and (witness / "latest.checkpoint").exists()
    res = CliRunner().invoke(app, ["audit", "verify", "--db", db_url, "--against", str(witness)])
    assert res.exit_code == 0 and "4 checkpoint(s) matched" in res.output, res.output
    led.close()


def test_after_m_minutes_the_next_append_signs_one(sqlite_url: str, monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_EVENTS", "0")
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_MINUTES", "30")
    led = Ledger.open(sqlite_url)
    led.append_many(_batch(3, 0))
    assert led.checkpoints() == []
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=31), tick=True):
        led.append_many(_batch(2, 3))
        assert [cp.size for cp in led.checkpoints()] == [5]
        led.append_many(_batch(2, 5))  # not 30 minutes after that one
        assert len(led.checkpoints()) == 1
    led.close()


def test_no_key_is_made_by_an_automatic_checkpoint(sqlite_url: str, monkeypatch) -> None:
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_EVENTS", "5")
    led = Ledger.open(sqlite_url)
    key_file_for(led.engine).unlink()  # a host without the operator's key
    led.append_many(_batch(10, 0))
    assert led.checkpoints() == [] and not key_file_for(led.engine).exists()
    led.close()


def test_a_bad_setting_is_named(sqlite_url: str, monkeypatch) -> None:
    Ledger.open(sqlite_url).close()
    monkeypatch.setenv("ACCORD_CHECKPOINT_EVERY_EVENTS", "lots")
    res = CliRunner().invoke(app, ["events", "--db", sqlite_url])
    assert res.exit_code == 2 and "ACCORD_CHECKPOINT_EVERY_EVENTS" in res.output and "Traceback" not in res.output


def test_publish_to_a_url_posts_the_signed_note(sqlite_url: str) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got: list[bytes] = []

    class Witness(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            got.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Witness)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        Ledger.open(sqlite_url).close()
        url = f"http://127.0.0.1:{server.server_port}/checkpoints"
        res = CliRunner().invoke(app, ["audit", "checkpoint", "--db", sqlite_url, "--publish", url])
        assert res.exit_code == 0, res.output
        assert len(got) == 1 and got[0].decode().split("\n")[1] == "0" and "\n\n\u2014 accord.ledger/" in got[0].decode()
    finally:
        server.shutdown()
        server.server_close()
    res = CliRunner().invoke(app, ["audit", "checkpoint", "--db", sqlite_url, "--publish", url])  # the witness is gone
    assert res.exit_code == 2 and "--publish" in res.output and "Traceback" not in res.output
