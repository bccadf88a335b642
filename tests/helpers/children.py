"""Server and worker processes that tests start: each in its own process group, and none outlives its test.

A test that fails between starting ``accord serve`` (or ``accord worker``) and stopping it used to
leave the process running: it held its port, its database connections (a PostgreSQL schema could
not be dropped) and a share of the two cores that later tests and benchmarks measured. Every
process started through :func:`spawn` is remembered, and ``tests/conftest.py`` calls
:func:`reap` at each test's teardown, before fixtures drop databases (a module-scoped fixture's
server is spawned with ``remember=False`` and stopped by its fixture). A process group rather than
a pid, because ``accord serve --workers N`` forks uvicorn's workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

_LIVE: list[subprocess.Popen] = []


def spawn(cmd: list[str], remember: bool = True, **kwargs: Any) -> subprocess.Popen:
    """``subprocess.Popen(cmd, **kwargs)`` in a new session (its own process group), remembered for :func:`reap`.

    ``remember=False`` for a process that outlives one test on purpose (a module-scoped fixture's
    server): its fixture stops it with :func:`stop_group`.
    """
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    if remember:
        _LIVE.append(proc)
    return proc


def stop_group(proc: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM the process's group, wait up to ``grace`` seconds, then SIGKILL whatever is left of it."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc, signal.SIGKILL)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap(grace: float = 10.0) -> int:
    """Stop every remembered process group still running (SIGTERM, then SIGKILL); returns how many were."""
    left = 0
    while _LIVE:
        proc = _LIVE.pop()
        left += proc.poll() is None
        stop_group(proc, grace)  # SIGKILL reaches uvicorn's forked workers even when the parent is gone
    return left
