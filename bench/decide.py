"""Benchmark: one-case ``decide`` latency, and ``decide_batch`` over millions of cases read from Parquet.

Figures (each against a baseline measured in the same run):
1. ``decide`` on one DetainerCase: median and p99 in µs, against building the same
   case object from its JSON alone (goal: median <= 50 µs).
2. ``decide_batch`` on N synthetic FACT rows from Parquet (default 10,000,000): the
   evaluation rate (goal >= 5,000,000 cases/s), the end-to-end time including the read
   (goal <= 3 s) and the peak memory of the process that does it (goal <= 4 GiB),
   against a plain Python loop of ``decide`` over a 100,000-row sample.

Usage: python bench/decide.py [--rows N] [--sample N] [--pack ID] [--per-row]
The Parquet file is generated once into bench/data/ (gitignored). Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
EXAMPLE = ROOT / "src" / "accord" / "law" / "examples" / "nyc_case.json"
AS_OF = date(2024, 6, 1)


def _percentiles(ns: list[int]) -> tuple[float, float]:
    ns = sorted(ns)
    return ns[len(ns) // 2] / 1000, ns[int(len(ns) * 0.99)] / 1000


def one_case_latency(pack_id: str, n: int) -> dict:
    from accord.law import DetainerCase, decide, load_pack

    pack = load_pack(pack_id)
    text = EXAMPLE.read_text()
    case = DetainerCase.model_validate_json(text)
    for _ in range(min(n, 2000)):  # warm caches and compiled plans
        decide(case, pack, AS_OF)
        DetainerCase.model_validate_json(text)
    build, dec = [], []
    clock = time.perf_counter_ns
    for _ in range(n):
        t = clock()
        DetainerCase.model_validate_json(text)
        build.append(clock() - t)
        t = clock()
        decide(case, pack, AS_OF)
        dec.append(clock() - t)
    b_med, b_p99 = _percentiles(build)
    d_med, d_p99 = _percentiles(dec)
    return {"decide_median_us": d_med, "decide_p99_us": d_p99, "build_case_median_us": b_med, "build_case_p99_us": b_p99}


def ensure_parquet(pack_id: str, rows: int, chunk: int = 1_000_000) -> Path:
    """Write ``rows`` random FACT rows in row groups, so generation never holds them all."""
    import pyarrow.parquet as pq

    from accord.law import load_pack
    from accord.law.sample import random_facts

    path = DATA / f"facts_{pack_id}_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    pack = load_pack(pack_id)
    tmp = path.with_suffix(".tmp")
    writer = None
    done = 0
    while done < rows:
        n = min(chunk, rows - done)
        table = random_facts(pack, n, seed=done).to_arrow()
        writer = writer or pq.ParquetWriter(tmp, table.schema, compression="lz4")
        writer.write_table(table, row_group_size=n)
        done += n
        print(f"  generated {done:,}/{rows:,} rows", file=sys.stderr)
    writer.close()
    tmp.rename(path)
    return path


def _batch_child(path: str, pack_id: str, per_row: bool, queue: mp.Queue) -> None:
    """Runs in a fresh process so its peak RSS is the batch's own."""
    import polars as pl

    from accord.law import decide_batch, load_pack
    from accord.law.batch import OUTPUT_COLUMNS

    pack = load_pack(pack_id)
    as_of = None if per_row else AS_OF
    t0 = time.perf_counter()
    out = decide_batch(pl.scan_parquet(path), pack, as_of).select(OUTPUT_COLUMNS).collect()
    end_to_end = time.perf_counter() - t0
    rows = out.height
    del out
    t0 = time.perf_counter()
    frame = pl.read_parquet(path)
    read_s = time.perf_counter() - t0
    evals = []
    for _ in range(2):
        t0 = time.perf_counter()
        decide_batch(frame, pack, as_of).select(OUTPUT_COLUMNS)
        evals.append(time.perf_counter() - t0)
    queue.put({
        "rows": rows, "end_to_end_s": end_to_end, "read_s": read_s, "eval_s": min(evals),
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    })


def python_loop(path: Path, pack_id: str, sample: int, per_row: bool) -> float:
    import polars as pl

    from accord.law import decide, load_pack

    pack = load_pack(pack_id)
    rows = pl.read_parquet(path, n_rows=sample).to_dicts()
    as_of = None if per_row else AS_OF
    t0 = time.perf_counter()
    for row in rows:
        decide(row, pack, as_of)
    return len(rows) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=100_000, help="rows for the Python-loop baseline")
    ap.add_argument("--latency-n", type=int, default=20_000)
    ap.add_argument("--pack", default="california")
    ap.add_argument("--per-row", action="store_true", help="as_of=None: each row under the law of its own date")
    args = ap.parse_args()

    lat = one_case_latency(args.pack, args.latency_n)
    print(f"decide one case ({args.pack}): median {lat['decide_median_us']:.1f} µs, p99 {lat['decide_p99_us']:.1f} µs; "
          f"building the case alone: median {lat['build_case_median_us']:.1f} µs "
          f"(decide/build = {lat['decide_median_us'] / lat['build_case_median_us']:.2f}); goal median <= 50 µs")

    path = ensure_parquet(args.pack, args.rows)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_batch_child, args=(str(path), args.pack, args.per_row, queue))
    child.start()
    batch = queue.get()
    child.join()
    rate = batch["rows"] / batch["eval_s"]
    baseline = python_loop(path, args.pack, min(args.sample, args.rows), args.per_row)
    print(f"decide_batch on {batch['rows']:,} rows from Parquet: evaluation {batch['eval_s']:.2f} s = {rate:,.0f} cases/s "
          f"(goal >= 5,000,000); end to end with the read {batch['end_to_end_s']:.2f} s (goal <= 3 s); "
          f"read alone {batch['read_s']:.2f} s; peak memory {batch['peak_rss_gib']:.2f} GiB (goal <= 4)")
    print(f"baseline: Python loop over decide on {min(args.sample, args.rows):,} rows: {baseline:,.0f} cases/s; "
          f"speed-up {rate / baseline:,.0f}x")
    print(json.dumps({
        "figure": "decide_batch_cases_per_s", "value": round(rate), "unit": "cases/s",
        "baseline": round(baseline), "ratio": round(rate / baseline, 1),
        "pack": args.pack, "rows": batch["rows"], "per_row_dates": args.per_row,
        "end_to_end_s": round(batch["end_to_end_s"], 3), "read_s": round(batch["read_s"], 3),
        "peak_rss_gib": round(batch["peak_rss_gib"], 3),
        "decide_median_us": round(lat["decide_median_us"], 1), "decide_p99_us": round(lat["decide_p99_us"], 1),
        "build_case_median_us": round(lat["build_case_median_us"], 1),
        "decide_vs_build_ratio": round(lat["decide_median_us"] / lat["build_case_median_us"], 2),
    }))


if __name__ == "__main__":
    main()
