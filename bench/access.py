"""Audited record-access decisions vs raw cedarpy asking the same questions (not a timed test).

Per chunk of --batch requests, all on the same machine in the same run:

* fair baseline  raw ``cedarpy.is_authorized_batch`` on exactly the questions the audited gateway put
                 to Cedar (recorded after its memo: the distinct questions, the schema where the
                 gateway sent it), per chunk; for the bulk path the same questions replayed by as
                 many forked processes as the bulk path runs (its deciders and the writer),
                 startup included. The bulk path's
                 workers each start with a cold memo and ask somewhat more, so this baseline is,
                 if anything, the stricter one.
* memo off       ``Gateway(memo=False).check_many`` beside raw cedarpy on its own questions (every
                 decision question put to Cedar), in wall and CPU time.
* check          Gateway.check per request (decision + obligations, before any commit): latency.
* audited        Gateway.check_many on the chunk, then record_decisions into the ledger (one commit
                 per chunk: record.requested, access.decided and notice.due together, with the
                 read model and the clocks' schedule and outbox in the same transaction).
* bulk           the shipped bulk path, ``accord.access.bulk.audit_requests`` (what ``accord access
                 check-batch`` runs), on a fresh SQLite file, timed end to end including starting its
                 workers: forked processes decide chunks and prepare their events, the parent writes
                 them in order, one commit per chunk. Its ledger is asserted equal to the audited one.
                 The goal (>= 10,000 audited decisions/s, bulk >= 1.5x one process) is read from it.

The old baseline (raw is_authorized, one question per request while the gateway memoises; one
process against the bulk path's several) is printed once, then only fair ratios. CPU-time figures
are printed beside the wall-time ones: on a shared 2-core machine the wall figures wait for it.

Prints a summary and, last, one JSON line.

    python bench/access.py            # 100,000 requests on SQLite
    python bench/access.py --n 5000   # quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cedarpy

from accord.service.access_events import record_decisions
from accord.service.bulk_access import audit_requests
from accord.access.gateway import Gateway
from accord.access.model import AccessRequest
from accord.domain.enums import JudgeKind, LegalProcessKind, RecordAction, RecordKind, RequestPurpose
from accord.ledger import Ledger


def agencies(rng: random.Random) -> list[dict]:
    out = []
    for i in range(8):
        out.append({"agency_id": f"ice-{i}", "name": "ICE office", "kind": "immigration_enforcement",
                    "jurisdiction": "US", "primarily_enforces_immigration": True})
    for i in range(30):
        certs = []
        if i % 5:
            signed = datetime(2019, 12, 1) + timedelta(days=rng.randrange(0, 900))
            cert = {"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": signed.date().isoformat()}
            if i % 7 == 0:
                cert["expires_on"] = (signed + timedelta(days=365)).date().isoformat()
            certs.append(cert)
        out.append({"agency_id": f"pd-{i}", "name": "Police", "kind": rng.choice(["police", "sheriff", "prosecutor"]),
                    "jurisdiction": rng.choice(["US-NY", "US-NY-NYC", "US-NJ"]), "certifications": certs})
    for i in range(2):
        out.append({"agency_id": f"foreign-{i}", "name": "Foreign", "kind": "foreign_government", "jurisdiction": "CA",
                    "certifications": [{"kind": "ny_vtl_201_12_b_no_immigration_use", "signed_on": "2019-12-20"}],
                    "agreements": [{"kind": "data_sharing", "partner_agency_id": "ny-dmv", "effective_from": "2018-01-01"}] if i else []})
    return out


def requests(n: int, seed: int = 7) -> list[AccessRequest]:
    rng = random.Random(seed)
    pool = agencies(rng)
    kinds = [k.value for k in RecordKind if k is not RecordKind.CUSTODY_RECORD]
    start = datetime.fromisoformat("2019-06-01T00:00:00-04:00")
    out = []
    for i in range(n):
        agency = rng.choice(pool)
        bulk = rng.random() < 0.05
        req = {"request_id": f"B-{i}", "requester_agency_id": agency["agency_id"], "custodian_agency_id": "ny-dmv",
               "record_kind": rng.choice(kinds), "action": RecordAction.BULK_READ.value if bulk else rng.choice(["read", "read", "photo_match"]),
               "purpose": rng.choice(list(RequestPurpose)).value, "subject_person_id": None if bulk else f"p-{rng.randrange(10**6)}",
               "requested_at": (start + timedelta(minutes=rng.randrange(0, 6 * 365 * 24 * 60))).isoformat()}
        if rng.random() < 0.3:
            req["legal_process"] = {"kind": rng.choice(list(LegalProcessKind)).value,
                                    "judge_kind": rng.choice(list(JudgeKind)).value}
        out.append(AccessRequest.model_validate_json(json.dumps({"request": req, "requester": agency})))
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class _Recording:
    """Keeps every batch of questions a gateway puts to Cedar (after its memo), to replay them raw."""

    def __init__(self, gw: Gateway) -> None:
        self.calls: list[tuple[list, Any, Any]] = []
        real = gw._ask

        def ask(asks, policies, entities):
            self.calls.append((list(asks), policies, entities))
            return real(asks, policies, entities)

        gw._ask = ask  # type: ignore[method-assign]

    def take(self) -> list[tuple[list, Any, Any]]:
        calls, self.calls = self.calls, []
        return calls


def _replay(calls: list[tuple[list, Any, Any]], schema: Any) -> None:
    """Raw cedarpy on exactly these questions: one batch call per group, the schema where the gateway sent it."""
    for asks, ps, ents in calls:
        plain = [q for q, check in asks if check is None]
        checked = [q for q, check in asks if check is not None]
        if plain:
            cedarpy.is_authorized_batch(plain, ps, ents)
        if checked:
            cedarpy.is_authorized_batch(checked, ps, ents, schema)


_REPLAY: list = []  # per chunk: its recorded calls (read by forked workers copy-on-write)


def _replay_chunk(i: int) -> int:
    from accord.access.packs import schema as load_schema

    _replay(_REPLAY[i], load_schema())
    return i


def _raw_processes(chunks: list, workers: int) -> float:
    """Seconds for ``workers`` forked processes to replay the chunks' questions, startup included
    (0 workers: this process), handing out chunks in order as the bulk path does."""
    global _REPLAY
    _REPLAY = chunks
    s = time.perf_counter()
    if workers == 0:
        for i in range(len(chunks)):
            _replay_chunk(i)
    else:
        with mp.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap(_replay_chunk, range(len(chunks))):
                pass
    return time.perf_counter() - s


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", "--rows", type=int, default=100_000, dest="n")
    ap.add_argument("--batch", type=int, default=1000, help="requests per check_many call and ledger commit")
    ap.add_argument("--db", default=None, help="ledger URL [default: a fresh SQLite file]")
    ap.add_argument("--workers", type=int, default=None, help="bulk path decision processes besides the writer [default: bulk_access.default_workers()]")
    args = ap.parse_args()

    load_before = _load()
    reqs = requests(args.n)
    # The input list is the benchmark's own artefact: keep the collector from rescanning it.
    gc.collect()
    gc.freeze()
    one, many = Gateway("ny_dmv"), Gateway("ny_dmv")  # one-by-one and batched, each with its own caches
    nomemo = Gateway("ny_dmv", memo=False)  # the decision memo off: every decision question goes to Cedar
    asked, asked_nomemo = _Recording(many), _Recording(nomemo)
    schema = one._schema
    replay_chunks: list = []
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        led = Ledger.open(url)
        raw_lat, lat, raw_cpu, cpu = [], [], [], []  # wall and CPU seconds per call
        raw_batch_time = check_many_time = ledger_time = audited_cpu = 0.0
        fair_time = nomemo_time = raw_nomemo_time = 0.0
        fair_cpu = nomemo_cpu = raw_nomemo_cpu = 0.0  # the same in CPU seconds (this process)
        decided = denied = notices = 0
        for b in range(0, len(reqs), args.batch):
            chunk = reqs[b:b + args.batch]
            groups: dict[tuple[int, int], tuple] = {}
            singles = []
            for a in chunk:
                # Old baseline and the one-by-one check, timed side by side so both see the same machine.
                on = one.as_of(a)
                r, ps, ents = one._cedar_requests(a)[0], one.pack.window(on).policy_set, one._entities_for(a, on)
                groups.setdefault((id(ps), id(ents)), (ps, ents, []))[2].append(r)
                c, s = time.process_time(), time.perf_counter()
                cedarpy.is_authorized(r, ps, ents, schema)
                raw_lat.append(time.perf_counter() - s)
                raw_cpu.append(time.process_time() - c)
                c, s = time.process_time(), time.perf_counter()
                d = one.check(a)
                lat.append(time.perf_counter() - s)
                cpu.append(time.process_time() - c)
                singles.append(d)
            s = time.perf_counter()
            for ps, ents, batch in groups.values():
                cedarpy.is_authorized_batch(batch, ps, ents, schema)
            raw_batch_time += time.perf_counter() - s
            c, s = time.process_time(), time.perf_counter()
            ds = many.check_many(chunk)
            check_many_time += time.perf_counter() - s
            s = time.perf_counter()
            record_decisions(led, list(zip(chunk, ds)))
            ledger_time += time.perf_counter() - s
            audited_cpu += time.process_time() - c
            # Fair baseline: raw cedarpy on exactly the questions the audited gateway put to Cedar.
            calls = asked.take()
            replay_chunks.append(calls)
            c, s = time.process_time(), time.perf_counter()
            _replay(calls, schema)
            fair_time += time.perf_counter() - s
            fair_cpu += time.process_time() - c
            # And with the decision memo off: the gateway beside raw cedarpy on its (memo-free) questions.
            c, s = time.process_time(), time.perf_counter()
            assert nomemo.check_many(chunk) == ds, "the memo changed a decision"
            nomemo_time += time.perf_counter() - s
            nomemo_cpu += time.process_time() - c
            calls = asked_nomemo.take()
            c, s = time.process_time(), time.perf_counter()
            _replay(calls, schema)
            raw_nomemo_time += time.perf_counter() - s
            raw_nomemo_cpu += time.process_time() - c
            assert ds == singles, "batched and one-by-one decisions differ"
            decided += len(chunk)
            denied += sum(d.outcome == "deny" for d in ds)
            notices += sum(len(d.notices()) for d in ds)
        events = led.size
        ok = led.verify().ok if args.n <= 20_000 else None
        one_process = [(e.kind, e.stream, e.payload_json) for e in led.events()]
        led.close()
        bulk_url = f"sqlite:///{Path(tmp) / 'bulk.db'}" if args.db is None else args.db
        bulk_reqs = reqs
        if args.db is not None:  # the same store: new request ids, or the bulk path would skip them all
            bulk_reqs = [a.model_copy(update={"request": a.request.model_copy(
                update={"request_id": a.request.request_id + "-bulk"})}) for a in reqs]
        bulk_led = Ledger.open(bulk_url)
        bulk_from = bulk_led.size
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        c, s = time.process_time(), time.perf_counter()
        bulk = audit_requests(bulk_led, bulk_reqs, pack="ny_dmv", workers=args.workers, chunk=args.batch)
        bulk_time = time.perf_counter() - s
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        bulk_cpu = time.process_time() - c + (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
        if args.db is None:
            same = [(e.kind, e.stream, e.payload_json) for e in bulk_led.events(after_seq=bulk_from)]
            assert same == one_process, "the bulk path wrote other events than the one-process path"
        assert bulk.recorded == decided, "the bulk path skipped requests"
        bulk_led.close()
    # Fair bulk baseline: the same questions replayed raw by as many processes as the bulk path ran
    # (its decision processes and the writer).
    processes = bulk.workers + 1
    raw_bulk_time = _raw_processes(replay_chunks, processes if bulk.workers else 0)
    load_after = _load()

    audited_total = check_many_time + ledger_time
    asked_share = many.questions_asked / max(1, many.questions_answered)
    rate = decided / audited_total
    raw_rate = len(raw_lat) / sum(raw_lat)
    raw_batch_rate = decided / raw_batch_time
    check_rate = decided / check_many_time
    fair_rate = decided / fair_time
    raw_bulk_rate = decided / raw_bulk_time
    med_raw, med = statistics.median(raw_lat), statistics.median(lat)
    med_ratio = med / med_raw
    per = lambda t: t / decided * 1e6  # noqa: E731  (us per decision)
    bulk_rate = bulk.recorded / bulk_time
    print(f"load average before {load_before}, after {load_after} (2 cores: above 2 the figures below wait for the machine)")
    print(f"requests {decided:,} ({denied:,} denied, {notices:,} notices owed), ledger events {events:,}"
          + ("" if ok is None else f", chain verified {ok}"))
    print(f"old baseline, printed once (raw asks one question per request, no notices question, 1 process): "
          f"raw is_authorized {raw_rate:,.0f}/s; bulk {bulk_rate / raw_rate:.2f}x, one-process audited {rate / raw_rate:.2f}x")
    print(f"raw cedarpy.is_authorized_batch, one question per request: {raw_batch_rate:,.0f}/s ({per(raw_batch_time):.1f} us per decision)")
    print(f"gateway check one by one (decision + obligations, before commit): median {med*1e6:.1f} us, "
          f"p99 {pct(lat, .99)*1e6:.1f} us  (old baseline's median {med_raw*1e6:.1f} us)")
    print(f"  the same in CPU time (no waits for the shared cores): p99 check {pct(cpu, .99)*1e6:.1f} us, "
          f"median check {statistics.median(cpu)*1e6:.1f} us")
    print(f"fair baseline, 1 process: raw cedarpy on the same {many.questions_asked:,} questions the gateway put to Cedar "
          f"(Cedar asked {asked_share:.0%} of 2 per request): {fair_rate:,.0f} decisions/s ({per(fair_time):.1f} us per decision)")
    print(f"gateway check_many (before commit): {check_rate:,.0f}/s ({per(check_many_time):.1f} us per decision), "
          f"{check_rate / fair_rate:.2f}x the fair baseline")
    print(f"memo off: gateway check_many {decided / nomemo_time:,.0f}/s vs raw cedarpy on its {nomemo.questions_asked:,} "
          f"questions {decided / raw_nomemo_time:,.0f}/s: {raw_nomemo_time / nomemo_time:.2f}x "
          f"(CPU time: {raw_nomemo_cpu / nomemo_cpu:.2f}x)")
    print(f"audited decisions incl. ledger (1 process, batch {args.batch}): {rate:,.0f}/s ({rate / fair_rate:.2f}x fair), "
          f"ledger+read model {per(ledger_time):.1f} us per decision; CPU {per(audited_cpu):.1f} us per decision "
          f"({decided / audited_cpu:,.0f}/CPU-s; fair baseline {decided / fair_cpu:,.0f}/CPU-s: "
          f"{fair_cpu / audited_cpu:.2f}x in CPU time)")
    print(f"fair baseline, {processes} processes: the same questions replayed raw, startup included: {raw_bulk_rate:,.0f} decisions/s")
    print(f"bulk path (audit_requests, {bulk.workers} decision processes + the writer, startup included): "
          f"{bulk_rate:,.0f}/s = {bulk_rate / raw_bulk_rate:.2f}x fair, {bulk_rate / rate:.2f}x the one-process audited rate; "
          f"CPU {per(bulk_cpu):.1f} us per decision over all processes")
    print(json.dumps({"figure": "audited record-access decisions per second (SQLite, bulk path)", "value": round(bulk_rate),
                      "unit": "decisions/s", "workers": bulk.workers, "processes": processes,
                      "fair_baseline": round(raw_bulk_rate), "fair_ratio": round(bulk_rate / raw_bulk_rate, 3),
                      "one_process_per_s": round(rate), "fair_baseline_one_process": round(fair_rate),
                      "fair_ratio_one_process": round(rate / fair_rate, 3),
                      "bulk_over_one_process": round(bulk_rate / rate, 3),
                      "memo_off_ratio": round(raw_nomemo_time / nomemo_time, 3),
                      "memo_off_ratio_cpu": round(raw_nomemo_cpu / nomemo_cpu, 3),
                      "fair_ratio_one_process_cpu": round(fair_cpu / audited_cpu, 3),
                      "check_many_per_s": round(check_rate), "cedar_questions_asked_share": round(asked_share, 3),
                      "audited_cpu_us_per_decision": round(per(audited_cpu), 1),
                      "bulk_cpu_us_per_decision": round(per(bulk_cpu), 1),
                      "ledger_us_per_decision": round(per(ledger_time), 1),
                      "median_check_us": round(med * 1e6, 1), "p99_check_us": round(pct(lat, .99) * 1e6, 1),
                      "load_before": load_before, "load_after": load_after, "n": decided, "batch": args.batch}))


if __name__ == "__main__":
    main()
