"""One transaction per file: an import killed (SIGKILL) while it is writing leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from accord.ddp.importer import import_release
from accord.ddp.sample import release_frame, write_parquet
from accord.ledger import Ledger
from helpers.ddp_release import TODAY

CHILD = textwrap.dedent("""
    import sys
    from datetime import date
    from accord.ddp.importer import import_release
    from accord.ledger import Ledger

    def progress(phase, n, total):
        if phase == "write":
            print("write", n, total, flush=True)

    with Ledger.open(sys.argv[2]) as led:
        import_release(sys.argv[1], led, today=date(2026, 1, 1), progress=progress, chunk=2000)
    print("done", flush=True)
""")


@pytest.mark.slow
def test_sigkill_mid_import_leaves_the_ledger_as_it_was(db_url: str, tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "big.parquet", release_frame(30_000, seed=5))
    with Ledger.open(db_url) as led:
        led.append("agency.registered", {"agency_id": "ice", "name": "ICE", "kind": "immigration_enforcement",
                                         "jurisdiction": "US", "primarily_enforces_immigration": True})
        before, root = led.size, led.root_hash()
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), str(path), db_url], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout is not None
    seen = 0
    for line in child.stdout:
        if line.startswith("write"):
            seen += 1
            if seen == 3:  # the manifest and two chunks of rows are in the open transaction
                break
        assert not line.startswith("done"), "the import finished before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(30)
    assert child.returncode == -signal.SIGKILL and seen == 3

    with Ledger.open(db_url) as led:
        assert led.size == before and led.root_hash() == root
        assert led.verify().ok
        res = import_release(path, led, today=TODAY)  # not "already imported": nothing of it was kept
        assert not res.already_imported and res.imported == 30_000
        assert led.size == before + 1 + 30_000 and led.verify().ok


def test_a_failure_while_writing_rolls_back_and_stops_the_worker(db_url: str, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The ledger refusing the third chunk (rows made ahead in a worker thread) leaves nothing and no thread behind."""
    import threading

    from accord.ledger.transaction import LedgerTx

    path = write_parquet(tmp_path / "rows.parquet", release_frame(9_000, seed=6))
    calls = []
    real = LedgerTx.append_prepared

    def failing(self, prepared):
        calls.append(len(prepared))
        if len(calls) == 3:
            raise OSError("disk full (simulated)")
        return real(self, prepared)

    with Ledger.open(db_url) as led:
        before, root = led.size, led.root_hash()
        monkeypatch.setattr(LedgerTx, "append_prepared", failing)
        with pytest.raises(OSError, match="simulated"):
            import_release(path, led, today=TODAY, chunk=2000)
        assert calls == [2000, 2000, 2000]
        assert not [t for t in threading.enumerate() if t.name.startswith("ddp-prefetch")]
        assert led.size == before and led.root_hash() == root
        monkeypatch.setattr(LedgerTx, "append_prepared", real)
        res = import_release(path, led, today=TODAY, chunk=2000)
        assert not res.already_imported and res.imported == 9_000 and led.verify().ok


def test_an_error_in_the_worker_is_raised_where_the_rows_are_written() -> None:
    from accord.ddp.importer import prefetched

    def rows():
        yield 1
        yield 2
        raise ValueError("row 3 cannot be encoded")

    got = []
    with pytest.raises(ValueError, match="row 3"):
        for item in prefetched(rows()):
            got.append(item)
    assert got == [1, 2]
