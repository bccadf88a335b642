"""Decide and record many record requests at once: Cedar in worker processes, one ledger writer.

Cedar holds the GIL while it evaluates, so one process decides at most ~10-15k requests/s and
then spends about as long again writing them. Here forked worker processes each take a chunk of
requests, decide it and build its events up to their canonical JSON (:func:`accord.ledger.prepare`);
the parent only numbers, hashes, chains and inserts them and brings the read model and the clocks
along (``UnitOfWork.append_prepared``), one transaction per chunk, in input order, while the
workers decide the next chunks. Whatever the number of workers, the ledger holds the same
events as :func:`~accord.service.access_events.record_decisions` called chunk by chunk (a test compares).

Workers are forked after the requests and the gateways exist, so they read both from memory
shared copy-on-write: only ``(start, end)`` goes to a worker and only plain tuples come back.
Where ``fork`` is not available (or ``workers=0``) the same code runs in this process.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable, Sequence

from accord.errors import InputError
from accord.ledger import Ledger, Prepared

from accord.access.errors import PolicyError
from accord.access.gateway import Gateway, gateway_for
from accord.access.model import AccessRequest
from accord.access.packs import Pack, load_pack, pack_for_custodian

from .access_events import (_DECIDED, _DUE, _REQUESTED, collector_paused, decision_events, prepare_decision_events,
                            prepare_decisions, record_stream)
from .store import Store

#: Requests per worker task and per ledger transaction.
DEFAULT_CHUNK = 1000


@dataclass(frozen=True)
class BulkResult:
    """What one bulk run did. ``skipped`` are request ids the ledger already held (not decided again)."""

    requests: int
    recorded: int
    allowed: int
    denied: int
    notices: int
    events: int
    first_seq: int
    last_seq: int
    workers: int
    skipped: tuple[str, ...] = ()

    @classmethod
    def combined(cls, results: Sequence["BulkResult"]) -> "BulkResult":
        """One result for consecutive runs (e.g. the blocks of one file)."""
        firsts = [r.first_seq for r in results if r.first_seq]
        return cls(
            requests=sum(r.requests for r in results), recorded=sum(r.recorded for r in results),
            allowed=sum(r.allowed for r in results), denied=sum(r.denied for r in results),
            notices=sum(r.notices for r in results), events=sum(r.events for r in results),
            first_seq=min(firsts, default=0), last_seq=max((r.last_seq for r in results), default=0),
            workers=max((r.workers for r in results), default=0),
            skipped=tuple(rid for r in results for rid in r.skipped))


@dataclass(frozen=True)
class _Place:
    """Where a request came from, for error messages (a file and line, or a position)."""

    source: str
    line: int

    def place(self) -> str:
        return f"{self.source}:{self.line}"

    def with_message(self, message: str, field: str) -> InputError:
        return InputError(message, source=self.source, line=self.line, field=field)


@dataclass
class _Job:
    requests: Sequence[AccessRequest]
    gateways: list[Gateway]  # per request: the gateway (pack) that decides it


_JOB: _Job | None = None  # set in the parent before forking; workers read it copy-on-write
_ONE_RUN = threading.Lock()  # the job is process-global: one bulk run at a time per process


def default_workers() -> int:
    """On Linux, two workers on two cores, one per core but one on more; on one core (or elsewhere) 0
    (decide in this process).

    The writer (this process) is busy too. Deciding a chunk (Cedar, the decisions, their events'
    canonical JSON) costs more than writing it (ledger, read model, clocks: about 73 against 59 us a
    decision on the benchmark machine, 2026-12-04), so one worker leaves the writer waiting for it;
    with two, the next chunk is ready when the writer is (``bench/access.py --n 20000`` on 2 shared
    cores: about 12,400/s with two, 1.56x one process). More workers than that only compete with the
    writer for the cores. On one core there is nothing to overlap: 0. Workers are forked (see the
    module docstring); macOS offers ``fork`` but some of its system libraries do not survive it, so
    only Linux forks unless ``workers`` is given.
    """
    if sys.platform != "linux" or "fork" not in mp.get_all_start_methods():
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 0 if cores < 2 else max(2, cores - 1)


def _worker_start() -> None:
    """In a fresh worker: move everything inherited (the requests, the gateways) out of the cyclic
    collector's reach, so its full scans neither walk them nor copy their pages (copy-on-write);
    leave Ctrl-C to the parent, which stops the pool (committed chunks stay, a re-run skips them)."""
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _decide_chunk(start: int, end: int) -> tuple[list[Prepared], int, int, int]:
    """Decide requests[start:end] and prepare their events: (prepared, allowed, denied, notices)."""
    job = _JOB
    assert job is not None, "no bulk job in this process"
    reqs = job.requests[start:end]
    gws = job.gateways[start:end]
    decisions: list = [None] * len(reqs)
    by_gateway: dict[int, list[int]] = {}
    for i, gw in enumerate(gws):
        by_gateway.setdefault(id(gw), []).append(i)
    for members in by_gateway.values():
        gw = gws[members[0]]
        for i, d in zip(members, gw.check_many([reqs[i] for i in members])):
            decisions[i] = d
    pairs = list(zip(reqs, decisions))
    fast = prepare_decisions(pairs)
    if fast is None:  # something the one-pass path leaves to the ledger's checks (which name the error)
        events, spots = decision_events(pairs)
        fast = prepare_decision_events(events), spots
    prepared, spots = fast
    allowed = sum(d.outcome == "allow" for d in decisions)
    notices = sum(spot[2] for spot in spots)
    return prepared, allowed, len(decisions) - allowed, notices


def _gateways(requests: Sequence[AccessRequest], pack: Pack | str | None, where: Callable[[int], _Place]) -> list[Gateway]:
    """The deciding gateway per request (its custodian's pack, or ``pack`` for all), built here once."""
    if pack is not None:
        gw = gateway_for(load_pack(pack) if isinstance(pack, str) else pack)
        return [gw] * len(requests)
    by_custodian: dict[str, Gateway] = {}
    out = []
    for i, areq in enumerate(requests):
        custodian = areq.request.custodian_agency_id
        gw = by_custodian.get(custodian)
        if gw is None:
            try:
                gw = by_custodian[custodian] = gateway_for(pack_for_custodian(custodian))
            except PolicyError as exc:  # no pack for this custodian: the request is at fault
                raise where(i).with_message(str(exc), "request.custodian_agency_id") from None
        out.append(gw)
    return out


def _repeated_ids(requests: Sequence[AccessRequest], where: Callable[[int], _Place]) -> None:
    """A request id given twice is an error naming both places: which one to believe is not ours to guess."""
    first_at: dict[str, int] = {}
    for i, areq in enumerate(requests):
        rid = areq.request.request_id
        if rid in first_at:
            earlier = where(first_at[rid])
            raise where(i).with_message(f"request_id {rid!r} was already given at {earlier.place()}", "request.request_id")
        first_at[rid] = i


def audit_requests(store: Store | Ledger, requests: Sequence[AccessRequest], *, pack: Pack | str | None = None,
                   workers: int | None = None, chunk: int = DEFAULT_CHUNK,
                   on_chunk: Callable[[int], None] | None = None,
                   source: str = "request", lines: Sequence[int] | None = None) -> BulkResult:
    """Decide every request and record it with its decision and notices; one transaction per chunk.

    ``pack`` decides all requests (default: each request's custodian's pack). ``workers`` is the
    number of decision processes besides this one, the writer (default: :func:`default_workers`; 0
    decides in this process). Requests
    already in the ledger are skipped, so a run cut short can simply be run again. ``on_chunk(n)``
    is called after each chunk of ``n`` requests is committed. Errors about one request name it as
    ``source:N`` (N = ``lines[i]`` when given, e.g. the file's line numbers, else its position from 1).
    """
    if chunk < 1:
        raise InputError("must be at least 1", field="chunk")
    if workers is not None and workers < 0:
        raise InputError("must be 0 or more", field="workers")

    def where(i: int) -> _Place:
        return _Place(source, lines[i] if lines is not None else i + 1)

    store = Store.of(store)
    _repeated_ids(requests, where)
    all_gateways = _gateways(requests, pack, where)
    streams = [record_stream(a.request.request_id) for a in requests]
    known = store.ledger.known_streams(streams)
    keep = [i for i, stream in enumerate(streams) if stream not in known] if known else range(len(requests))
    fresh, gateways = [requests[i] for i in keep], [all_gateways[i] for i in keep]
    skipped = tuple(requests[i].request.request_id for i, stream in enumerate(streams) if stream in known) if known else ()
    ranges = [(s, min(s + chunk, len(fresh))) for s in range(0, len(fresh), chunk)]
    n_workers = default_workers() if workers is None else workers
    if "fork" not in mp.get_all_start_methods():
        n_workers = 0
    n_workers = min(n_workers, len(ranges))
    totals = [0, 0, 0, 0]  # allowed, denied, notices, events
    first = last = 0
    late_skips: list[str] = []  # recorded by another writer after the look-up above

    def write(result: tuple[list[Prepared], int, int, int], size: int) -> None:
        nonlocal first, last
        prepared, allowed, denied, notices = result
        # collector off: a chunk's rows and events hold no cycles, and a full collection walks the whole
        # heap of the process that started the run (88 ms each in the benchmark, a fifth of the writer)
        with collector_paused(), store.transaction() as uow:  # the chunk's events and the read model's rows, together
            # Another run (or API worker) may have recorded some of these requests since they were
            # looked up: this transaction holds the ledger's write lock, so what it sees now is final.
            prepared, dropped = _without_recorded(prepared, uow.tx.known_streams(
                p[1] for p in prepared if p[0] == _REQUESTED))
            stored = uow.append_prepared(prepared) if prepared else []
        if dropped:
            late_skips.extend(dropped)
            allowed, denied, notices = _recount(prepared)
        lo, hi = (stored[0].seq, stored[-1].seq) if stored else (0, 0)
        first = first or lo
        last = hi or last
        totals[0] += allowed
        totals[1] += denied
        totals[2] += notices
        totals[3] += len(prepared)
        if on_chunk is not None:
            on_chunk(size)

    global _JOB
    with _ONE_RUN:
        _JOB = _Job(fresh, gateways)
        try:
            if n_workers == 0:
                for s, e in ranges:
                    write(_decide_chunk(s, e), e - s)
            else:
                with mp.get_context("fork").Pool(n_workers, initializer=_worker_start) as pool:
                    todo = iter(ranges)
                    pending: deque = deque()
                    for s, e in todo:  # keep every worker busy, and at most two chunks ahead each
                        pending.append((pool.apply_async(_decide_chunk, (s, e)), e - s))
                        if len(pending) >= 2 * n_workers:
                            break
                    while pending:
                        result, size = pending.popleft()
                        nxt = next(todo, None)
                        if nxt is not None:
                            pending.append((pool.apply_async(_decide_chunk, nxt), nxt[1] - nxt[0]))
                        write(result.get(), size)
        finally:
            _JOB = None
    return BulkResult(requests=len(requests), recorded=len(fresh) - len(late_skips), allowed=totals[0],
                      denied=totals[1], notices=totals[2], events=totals[3], first_seq=first, last_seq=last,
                      workers=n_workers, skipped=skipped + tuple(late_skips))


def _groups(prepared: Sequence[Prepared]) -> list[tuple[int, int]]:
    """``(start, end)`` of each request's events: its record.requested and what follows it (see decision_events)."""
    starts = [i for i, p in enumerate(prepared) if p[0] == _REQUESTED]
    return [(s, e) for s, e in zip(starts, starts[1:] + [len(prepared)])]


def _without_recorded(prepared: list[Prepared], known: set[str]) -> tuple[list[Prepared], list[str]]:
    """``prepared`` less every request whose stream already holds events (with the events it causes),
    its BatchRef placeholders renumbered; and the ids of the requests left out."""
    if not known:
        return prepared, []
    out: list[Prepared] = []
    dropped: list[str] = []
    new_pos: dict[int, int] = {}
    for s, e in _groups(prepared):
        stream = prepared[s][1]
        if stream in known:
            dropped.append(stream.removeprefix("record/"))
            continue
        for i in range(s, e):
            kind, st, cb, payload = prepared[i]
            new_pos[i] = len(out)
            if cb is not None and cb < 0:
                cb = -(new_pos[-cb - 1] + 1)
            out.append((kind, st, cb, payload))
    return out, dropped


def _recount(prepared: Sequence[Prepared]) -> tuple[int, int, int]:
    """(allowed, denied, notices) of the requests left in ``prepared``."""
    import json

    allowed = denied = notices = 0
    for kind, _, _, payload in prepared:
        if kind == _DECIDED:
            if json.loads(payload).get("outcome") == "allow":
                allowed += 1
            else:
                denied += 1
        elif kind == _DUE:
            notices += 1
    return allowed, denied, notices
