"""Real ``accord worker`` processes for the clocks' tests: started, waited for, killed, stopped."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.children import spawn

ACCORD = str(Path(sys.executable).with_name("accord"))

#: Fast clocks for tests: short polls, short time limits, short backoff; http to 127.0.0.1 allowed.
FAST_ENV = {"ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP": "1", "ACCORD_CLOCKS_POLL_SECONDS": "0.1",
            "ACCORD_WEBHOOK_TIMEOUT_SECONDS": "1", "ACCORD_WEBHOOK_BACKOFF_BASE_SECONDS": "0.2",
            "ACCORD_WEBHOOK_BACKOFF_CAP_SECONDS": "1", "ACCORD_HOLD_WARNING_LEAD_SECONDS": "2",
            "ACCORD_WEBHOOK_LEASE_SECONDS": "4"}


class Worker:
    def __init__(self, url: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.started = time.time()
        log = os.environ.get("ACCORD_TEST_WORKER_LOG")  # a file to append the workers' stderr to (debugging)
        self.proc = spawn([ACCORD, "worker", "--db", url, *args], stdout=subprocess.PIPE,
                          stderr=open(log, "a") if log else subprocess.PIPE,  # noqa: SIM115
                          env={**os.environ, **FAST_ENV, **(env or {})}, text=True)
        self.ready_at: float | None = None

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Block until the worker says it runs; returns that moment (time.time())."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}: {(self.proc.stderr.read() if self.proc.stderr else '')[-2000:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready and "ready" in self.proc.stdout.readline():
                self.ready_at = time.time()
                return self.ready_at
        raise TimeoutError("worker did not start")

    def kill(self) -> float:
        """SIGKILL: no shutdown, no last words; returns the moment."""
        at = time.time()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return at

    def stop(self, timeout: float = 30.0) -> str:
        """SIGTERM and wait; returns what it printed last (its counts)."""
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=timeout)
        if self.proc.returncode != 0:
            raise RuntimeError(f"worker exited {self.proc.returncode}: {(err or '')[-2000:]}")
        return out
