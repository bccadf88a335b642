"""A real ``accord serve`` in a subprocess on a free loopback port, for tests that need the HTTP server itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from helpers.children import spawn, stop_group


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(url: str, workers: int = 1, env: dict[str, str] | None = None,
                   timeout: float = 120.0) -> Iterator[str]:
    """Start ``accord serve --db url`` and yield its base URL once /health answers; stop it after."""
    port = free_port()
    environ = {**os.environ, "ACCORD_RATE_LIMIT": "100000/minute", **(env or {})}
    proc = spawn([sys.executable, "-c", "from accord.cli import main; main()", "serve", "--db", url,
                  "--port", str(port), "--workers", str(workers)], remember=False, env=environ,
                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # a fixture may keep it for a module
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"accord serve exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("accord serve did not answer /health in time")
            time.sleep(0.3)
        yield base
    finally:
        stop_group(proc)  # its forked workers too


class Server:
    """One ``accord serve`` process (the clocks run inside it) that a test can SIGKILL and start again.

    Its settings are the workers' fast clocks (``helpers.workers.FAST_ENV``); it is ready when
    ``/health`` answers, which is after the app's start-up has started the scheduler and dispatcher.
    """

    def __init__(self, url: str, env: dict[str, str] | None = None, port: int | None = None) -> None:
        from helpers.workers import ACCORD, FAST_ENV

        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        log = os.environ.get("ACCORD_TEST_WORKER_LOG")  # a file to append the server's stderr to (debugging)
        self.proc = spawn([ACCORD, "serve", "--db", url, "--port", str(self.port), "--workers", "1"],
                          stdout=subprocess.DEVNULL,
                          stderr=open(log, "a") if log else subprocess.DEVNULL,  # noqa: SIM115
                          env={**os.environ, "ACCORD_RATE_LIMIT": "100000/minute", **FAST_ENV, **(env or {})})

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Block until /health answers; returns that moment (time.time())."""
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"accord serve exited {self.proc.returncode}")
                try:
                    if client.get(f"{self.base}/health").status_code == 200:
                        return time.time()
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        raise TimeoutError("accord serve did not answer /health in time")

    def kill(self) -> float:
        """SIGKILL: no shutdown, no lifespan end, no last words; returns the moment."""
        import signal

        at = time.time()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return at

    def stop(self, timeout: float = 30.0) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
