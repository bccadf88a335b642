"""Benchmark: one-case ``decide`` latency, and ``decide_batch`` over millions of cases read from Parquet.

Figures (each against a baseline measured in the same run):
1. ``decide`` on one DetainerCase: median and p99 in µs, against building the same
   case object from its JSON alone (goal: median <= 50 µs).
2. ``decide_batch`` on N synthetic FACT rows from Parquet (default 10,000,000): the
   evaluation rate (goal >= 5,000,000 cases/s), the end-to-end time including the read
   (goal <= 3 s) and the peak memory of the process that does it (goal <= 4 GiB),
   against a plain Python loop of ``decide`` over a 100,000-row sample (the old baseline, kept).
3. Fair baseline (issue 16): the same rules written by hand as one plain Polars expression, on the same
   rows, in the same process. Hand-written rules exist for the texas and nyc_doc packs
   (``bench/simulate.py``: Tex. Code Crim. Proc. art. 2.251, NYC Admin. Code §9-131), written for the
   facts a synthetic history holds (``accord.synth``, the NYC 2020 profile; random FACT rows reach
   cases they leave out), so this comparison writes ``--fair-rows`` synthetic detainers (default
   1,000,000, under bench/data/) and decides them both ways under each of the two packs:
   ``decide_batch`` keeping its hold, notify and transfer decisions, against the hand-written
   expressions for the same three answers (checked equal row by row, untimed). ``fair_ratio`` is
   Accord's cases/s over the hand-written expression's (1.0 = as fast), both packs together.

Usage: python bench/decide.py [--rows N] [--sample N] [--pack ID] [--per-row] [--fair-rows N]
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


def fair_baseline(rows: int) -> dict:
    """texas and nyc_doc rules by hand (one Polars expression each) against ``decide_batch`` on the same synthetic rows."""
    import polars as pl

    sys.path.insert(0, str(Path(__file__).parent))
    from simulate import nyc_doc_by_hand, texas_by_hand

    from accord.law import decide_batch, load_pack
    from accord.synth.parquet import write_history
    from accord.synth.profile import NYC_2020

    root = DATA / f"decide-fair-{rows}"
    if not (root / "COMPLETE").exists():
        write_history(root, NYC_2020, rows, seed=0, chunk_rows=min(rows, 1_000_000), id_prefix="f-", record_requests=False)
        (root / "COMPLETE").write_text(str(rows))
    frame = pl.read_parquet(sorted((root / "detainers").glob("*.parquet")))
    on = frame["received_at"].min().date()
    cols = ["decision_hold_past_release", "decision_notify_release", "decision_transfer_at_release"]
    accord_s = hand_s = 0.0
    same = True
    for pack_id, by_hand in (("texas", texas_by_hand), ("nyc_doc", nyc_doc_by_hand)):
        pack, exprs = load_pack(pack_id), by_hand(on)
        mine_t, hand_t = [], []
        for _ in range(2):
            t0 = time.perf_counter()
            mine = decide_batch(frame, pack, on).select(cols)
            mine_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hand = frame.select(**dict(zip(cols, exprs.values(), strict=True)))
            hand_t.append(time.perf_counter() - t0)
        accord_s, hand_s = accord_s + min(mine_t), hand_s + min(hand_t)
        same = same and mine.cast(pl.String).equals(hand.cast(pl.String))
    return {"rows": frame.height, "accord_s": accord_s, "hand_s": hand_s, "same": same}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--sample", type=int, default=100_000, help="rows for the Python-loop baseline")
    ap.add_argument("--latency-n", type=int, default=20_000)
    ap.add_argument("--pack", default="california")
    ap.add_argument("--per-row", action="store_true", help="as_of=None: each row under the law of its own date")
    ap.add_argument("--fair-rows", type=int, default=1_000_000, help="synthetic rows for the fair (hand-written) baseline")
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
    print(f"old baseline: Python loop over decide on {min(args.sample, args.rows):,} rows: {baseline:,.0f} cases/s")
    fair = fair_baseline(min(args.fair_rows, args.rows))
    fair_ratio = fair["hand_s"] / fair["accord_s"]
    print(f"fair baseline (texas and nyc_doc rules by hand, one Polars expression each, {fair['rows']:,} synthetic rows"
          f"{'' if fair['same'] else ' — DIFFERS'}): {2 * fair['rows'] / fair['hand_s']:,.0f} cases/s; decide_batch on the "
          f"same rows {2 * fair['rows'] / fair['accord_s']:,.0f} cases/s -> {fair_ratio:.2f}x the hand-written speed")
    print(f"old baseline, shown once for comparison (Python loop over decide): speed-up {rate / baseline:,.0f}x")
    print(json.dumps({
        "figure": "decide_batch_cases_per_s", "value": round(rate), "unit": "cases/s",
        "fair_baseline": round(2 * fair["rows"] / fair["hand_s"]), "fair_ratio": round(fair_ratio, 2),
        "fair_baseline_is": "texas and nyc_doc hold/notify/transfer rules by hand as plain Polars expressions on the same "
                            "synthetic rows (cases/s); fair_ratio = decide_batch cases/s over it",
        "fair_baseline_same_answers": fair["same"], "fair_rows": fair["rows"],
        "old_baseline": round(baseline), "old_ratio": round(rate / baseline, 1),
        "pack": args.pack, "rows": batch["rows"], "per_row_dates": args.per_row,
        "end_to_end_s": round(batch["end_to_end_s"], 3), "read_s": round(batch["read_s"], 3),
        "peak_rss_gib": round(batch["peak_rss_gib"], 3),
        "decide_median_us": round(lat["decide_median_us"], 1), "decide_p99_us": round(lat["decide_p99_us"], 1),
        "build_case_median_us": round(lat["build_case_median_us"], 1),
        "decide_vs_build_ratio": round(lat["decide_median_us"] / lat["build_case_median_us"], 2),
    }))


if __name__ == "__main__":
    main()
