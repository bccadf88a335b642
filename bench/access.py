"""Audited record-access decisions vs raw cedarpy on the same requests (not a timed test).

Audited = Gateway.check (Cedar decision + obligations question in one batch call, fail-closed
interpretation, notice deadlines) then record_decisions into the ledger, committed every
--batch requests (two transactions per batch: record.requested, then access.decided + notice.due).
Baseline = cedarpy.is_authorized on the same decision requests with pre-parsed PolicySet,
Schema and Entities handles. Prints a summary and, last, one JSON line.

    python bench/access.py            # 100,000 requests on SQLite
    python bench/access.py --n 5000   # quick run
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import cedarpy

from accord.access.audit import record_decisions
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
    ap.add_argument("--batch", type=int, default=1000, help="requests per ledger commit")
    ap.add_argument("--db", default=None, help="ledger URL [default: a fresh SQLite file]")
    args = ap.parse_args()

    reqs = requests(args.n)
    gw = Gateway("ny_dmv")
    schema = gw._schema
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        led = Ledger.open(url)
        raw_lat, lat, ledger_time = [], [], 0.0
        decided = denied = notices = 0
        for b in range(0, len(reqs), args.batch):
            chunk = reqs[b:b + args.batch]
            pairs = []
            for a in chunk:
                # Baseline: the same decision request the gateway sends, same pre-parsed handles,
                # timed right next to the audited check so both see the same machine.
                on = gw.as_of(a)
                r, ps, ents = gw._cedar_requests(a)[0], gw.pack.window(on).policy_set, gw._entities_for(a, on)
                s = time.perf_counter()
                cedarpy.is_authorized(r, ps, ents, schema)
                raw_lat.append(time.perf_counter() - s)
                s = time.perf_counter()
                d = gw.check(a)
                lat.append(time.perf_counter() - s)
                pairs.append((a, d))
                denied += d.outcome == "deny"
                notices += len(d.notices())
            s = time.perf_counter()
            record_decisions(led, pairs)
            ledger_time += time.perf_counter() - s
            decided += len(chunk)
        audited_total = sum(lat) + ledger_time
        raw_total = sum(raw_lat)
        events = led.size
        ok = led.verify().ok if args.n <= 20_000 else None
        led.close()

    rate = decided / audited_total
    raw_rate = len(raw_lat) / raw_total
    med_ratio = statistics.median(lat) / statistics.median(raw_lat)
    print(f"requests {decided:,} ({denied:,} denied, {notices:,} notices owed), ledger events {events:,}"
          + ("" if ok is None else f", chain verified {ok}"))
    print(f"raw cedarpy.is_authorized: {raw_rate:,.0f}/s, median {statistics.median(raw_lat)*1e6:.1f} us, "
          f"p99 {pct(raw_lat, .99)*1e6:.1f} us")
    print(f"gateway check (decision + obligations, before commit): median {statistics.median(lat)*1e6:.1f} us, "
          f"p99 {pct(lat, .99)*1e6:.1f} us  (median ratio {med_ratio:.2f}x raw)")
    print(f"audited decisions incl. ledger (batch {args.batch}): {rate:,.0f}/s  ({rate/raw_rate:.2f}x raw throughput); "
          f"ledger {ledger_time / decided * 1e6:.1f} us per decision, check {sum(lat) / decided * 1e6:.1f} us")
    print(json.dumps({"figure": "audited record-access decisions per second (SQLite)", "value": round(rate),
                      "unit": "decisions/s", "baseline": round(raw_rate), "ratio": round(rate / raw_rate, 3),
                      "median_check_us": round(statistics.median(lat) * 1e6, 1),
                      "median_raw_us": round(statistics.median(raw_lat) * 1e6, 1),
                      "median_latency_ratio": round(med_ratio, 2),
                      "p99_check_us": round(pct(lat, .99) * 1e6, 1), "p99_raw_us": round(pct(raw_lat, .99) * 1e6, 1),
                      "ledger_us_per_decision": round(ledger_time / decided * 1e6, 1), "n": decided, "batch": args.batch}))


if __name__ == "__main__":
    main()
