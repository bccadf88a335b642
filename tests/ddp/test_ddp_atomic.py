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
