"""Audited record-access decisions vs raw cedarpy on the same requests (not a timed test).

Per chunk of --batch requests, all on the same machine in the same run:

The gateway keeps error-free Cedar answers and reuses them for requests its policies cannot tell
apart (see accord.access.gateway); the raw baselines ask Cedar every time. The share of Cedar
questions actually put is printed.

* raw single   cedarpy.is_authorized per request, pre-parsed PolicySet, Schema and Entities
               handles, on exactly the decision request the gateway sends (the baseline);
* raw batch    cedarpy.is_authorized_batch on the same requests, grouped by policy set and
               requester as the gateway groups them (second baseline, since the audited path
               batches too);
* check        Gateway.check per request (decision + obligations, before any commit): the
               latency figures, against raw single, in wall time and in CPU time (the CPU
               figures leave out time the process waited for the machine's shared cores);
* audited      Gateway.check_many on the chunk, then record_decisions into the ledger (one
               commit per chunk: record.requested, access.decided and notice.due together,
               causes named by BatchRef). The batch and one-by-one decisions are asserted equal.
* bulk         the shipped bulk path, ``accord.access.bulk.audit_requests`` (what ``accord access
               check-batch`` runs), on a fresh SQLite file, timed end to end including starting its
               workers: forked processes decide chunks and prepare their events, the parent writes
               them in order, one commit per chunk. Its ledger is asserted equal to the audited one.
               This is the figure the goal (>= 10,000 audited decisions/s) is read from. It uses
               every core (2 here); the single-process "audited" figure is printed beside it.
               Both move with the machine: compare them with raw single from the same run.

Prints a summary and, last, one JSON line.

    python bench/access.py            # 100,000 requests on SQLite
    python bench/access.py --n 5000   # quick run
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", "--rows", type=int, default=100_000, dest="n")
    ap.add_argument("--batch", type=int, default=1000, help="requests per check_many call and ledger commit")
    ap.add_argument("--db", default=None, help="ledger URL [default: a fresh SQLite file]")
    ap.add_argument("--workers", type=int, default=None, help="bulk path decision processes [default: one per core]")
    args = ap.parse_args()

    reqs = requests(args.n)
    # The input list is the benchmark's own artefact: keep the collector from rescanning it.
    gc.collect()
    gc.freeze()
    one, many = Gateway("ny_dmv"), Gateway("ny_dmv")  # one-by-one and batched, each with its own caches
    schema = one._schema
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        led = Ledger.open(url)
        raw_lat, lat, raw_cpu, cpu = [], [], [], []  # wall and CPU seconds per call
        raw_batch_time = check_many_time = ledger_time = 0.0
        decided = denied = notices = 0
        for b in range(0, len(reqs), args.batch):
            chunk = reqs[b:b + args.batch]
            groups: dict[tuple[int, int], tuple] = {}
            singles = []
            for a in chunk:
                # Baseline and the one-by-one check, timed side by side so both see the same machine.
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
            s = time.perf_counter()
            ds = many.check_many(chunk)
            check_many_time += time.perf_counter() - s
            s = time.perf_counter()
            record_decisions(led, list(zip(chunk, ds)))
            ledger_time += time.perf_counter() - s
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
        s = time.perf_counter()
        bulk = audit_requests(bulk_led, bulk_reqs, pack="ny_dmv", workers=args.workers, chunk=args.batch)
        bulk_time = time.perf_counter() - s
        if args.db is None:
            same = [(e.kind, e.stream, e.payload_json) for e in bulk_led.events(after_seq=bulk_from)]
            assert same == one_process, "the bulk path wrote other events than the one-process path"
        assert bulk.recorded == decided, "the bulk path skipped requests"
        bulk_led.close()

    audited_total = check_many_time + ledger_time
    asked_share = many.questions_asked / max(1, many.questions_answered)
    rate = decided / audited_total
    raw_rate = len(raw_lat) / sum(raw_lat)
    raw_batch_rate = decided / raw_batch_time
    check_rate = decided / check_many_time
    med_raw, med = statistics.median(raw_lat), statistics.median(lat)
    med_ratio = med / med_raw
    per = lambda t: t / decided * 1e6  # noqa: E731  (us per decision)
    print(f"requests {decided:,} ({denied:,} denied, {notices:,} notices owed), ledger events {events:,}"
          + ("" if ok is None else f", chain verified {ok}"))
    print(f"raw cedarpy.is_authorized:       {raw_rate:,.0f}/s, median {med_raw*1e6:.1f} us, p99 {pct(raw_lat, .99)*1e6:.1f} us")
    print(f"raw cedarpy.is_authorized_batch: {raw_batch_rate:,.0f}/s ({per(raw_batch_time):.1f} us per decision)")
    print(f"gateway check one by one (decision + obligations, before commit): median {med*1e6:.1f} us, "
          f"p99 {pct(lat, .99)*1e6:.1f} us  (median ratio {med_ratio:.2f}x raw)")
    print(f"  the same in CPU time (no waits for the shared cores): p99 check {pct(cpu, .99)*1e6:.1f} us, "
          f"raw {pct(raw_cpu, .99)*1e6:.1f} us; median check {statistics.median(cpu)*1e6:.1f} us, "
          f"raw {statistics.median(raw_cpu)*1e6:.1f} us")
    print(f"gateway check_many (before commit): {check_rate:,.0f}/s ({per(check_many_time):.1f} us per decision, "
          f"{check_rate / raw_batch_rate:.2f}x raw batch throughput); Cedar asked {asked_share:.0%} of the questions")
    print(f"audited decisions incl. ledger (batch {args.batch}): {rate:,.0f}/s  ({rate/raw_rate:.2f}x raw, "
          f"{rate/raw_batch_rate:.2f}x raw batch throughput); ledger {per(ledger_time):.1f} us per decision")
    bulk_rate = bulk.recorded / bulk_time
    print(f"bulk path (audit_requests, {bulk.workers} decision processes + the writer, startup included): "
          f"{bulk_rate:,.0f}/s ({bulk_rate / rate:.2f}x the one-process audited rate, {bulk_rate / raw_rate:.2f}x raw)")
    print(json.dumps({"figure": "audited record-access decisions per second (SQLite, bulk path)", "value": round(bulk_rate),
                      "workers": bulk.workers, "one_process_per_s": round(rate), "ratio_one_process": round(rate / raw_rate, 3),
                      "unit": "decisions/s", "baseline": round(raw_rate), "ratio": round(bulk_rate / raw_rate, 3),
                      "baseline_batch": round(raw_batch_rate), "ratio_batch": round(bulk_rate / raw_batch_rate, 3),
                      "check_many_per_s": round(check_rate), "cedar_questions_asked_share": round(asked_share, 3),
                      "check_many_us_per_decision": round(per(check_many_time), 1),
                      "raw_batch_us_per_decision": round(per(raw_batch_time), 1),
                      "median_check_us": round(med * 1e6, 1), "median_raw_us": round(med_raw * 1e6, 1),
                      "median_latency_ratio": round(med_ratio, 2),
                      "p99_check_us": round(pct(lat, .99) * 1e6, 1), "p99_raw_us": round(pct(raw_lat, .99) * 1e6, 1),
                      "p99_check_cpu_us": round(pct(cpu, .99) * 1e6, 1), "p99_raw_cpu_us": round(pct(raw_cpu, .99) * 1e6, 1),
                      "ledger_us_per_decision": round(per(ledger_time), 1), "n": decided, "batch": args.batch}))


if __name__ == "__main__":
    main()
