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
    proc = subprocess.Popen([sys.executable, "-c", "from accord.cli import main; main()", "serve", "--db", url,
                             "--port", str(port), "--workers", str(workers)], env=environ,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
