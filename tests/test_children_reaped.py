"""A server a test starts and never stops (a test that failed half-way) does not outlive the test."""

from __future__ import annotations

import os

from helpers.children import reap, spawn

_PIDS: list[int] = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet waited for) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _running_in_group(pgid: int) -> list[int]:
    """Pids still running (zombies left out: an orphan's is reaped by init, when init reaps) in group ``pgid``."""
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[-1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                out.append(int(name))
    return out


def test_a_test_leaves_a_process_group_running():
    # a parent that forks a child, as `accord serve --workers 2` forks uvicorn's workers
    proc = spawn(["sh", "-c", "sleep 300 & sleep 300"])
    _PIDS.append(proc.pid)
    assert _alive(proc.pid)


def test_the_teardown_reaped_it_and_its_children():
    assert _PIDS, "runs after the test above"
    assert not _alive(_PIDS[0])
    # the forked child is gone too: nothing of the group is still running
    assert _running_in_group(_PIDS[0]) == []


def test_reap_with_nothing_running_is_a_no_op():
    assert reap() == 0
