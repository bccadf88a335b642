"""Benchmark: generate a synthetic detainer history to Parquet (goal: 100,000,000 rows within 4 GiB peak).

Each chunk is drawn, decided under the NYC DOC pack with the vectorised engine, settled and
written (``accord.synth.parquet.write_history``). Fair baseline (issue 16), same run, same
process: re-encoding the same rows with a plain Polars streaming copy
(``scan_parquet(...).sink_parquet``, zstd), the floor for writing these rows at all (it draws,
decides and settles nothing, so ``fair_ratio`` — Accord's rows/s over the copy's — stays below 1;
how far below is the cost of drawing, deciding and settling). Prints rows/s, peak RSS, and one JSON line.

    python bench/synth.py --rows 1000000        # quick
    python bench/synth.py                       # 100,000,000 rows (disk: ~20 GiB under bench/data/)
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import time
from pathlib import Path

import polars as pl

from accord.synth.parquet import write_history
from accord.synth.profile import NYC_2020


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--chunk-rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=10_000_000, help="rows re-encoded by the baseline (<= --rows)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "data" / "synth")
    ap.add_argument("--keep", action="store_true", help="keep the Parquet files (e.g. for bench/simulate.py)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    stats = write_history(args.out, NYC_2020, args.rows, seed=0, chunk_rows=args.chunk_rows, id_prefix="b-")
    seconds = time.perf_counter() - t0
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    rate = args.rows / seconds
    print(f"synth: {args.rows:,} rows in {seconds:,.1f} s = {rate:,.0f} rows/s; {stats.bytes / 2**30:.2f} GiB on disk; peak RSS {peak_gib:.2f} GiB")

    files = sorted((args.out / "detainers").glob("*.parquet"))
    n_base = min(args.baseline_rows, args.rows)
    copy = args.out / "baseline-copy.parquet"
    t0 = time.perf_counter()
    pl.scan_parquet(files).head(n_base).sink_parquet(copy, compression="zstd")
    base_seconds = time.perf_counter() - t0
    base_rate = n_base / base_seconds
    copy.unlink()
    print(f"baseline (polars streaming re-encode of the same rows): {n_base:,} rows in {base_seconds:,.1f} s = {base_rate:,.0f} rows/s")
    if not args.keep:
        shutil.rmtree(args.out)
    print(json.dumps({
        "figure": "synth_rows_per_second", "value": round(rate), "unit": "rows/s",
        "fair_baseline": round(base_rate), "fair_ratio": round(rate / base_rate, 4),
        "fair_baseline_is": "polars streaming re-encode (scan_parquet + sink_parquet, zstd) of the same rows, rows/s",
        "baseline": round(base_rate), "ratio": round(rate / base_rate, 4), "rows": args.rows, "seconds": round(seconds, 1), "peak_rss_gib": round(peak_gib, 2),
        "goal_peak_gib": 4, "chunk_rows": args.chunk_rows,
    }))


if __name__ == "__main__":
    main()
