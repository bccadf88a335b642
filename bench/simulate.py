"""Benchmark: what-if replay of a detainer history (goals: 10 M rows under two packs <= 5 s; 100 M under one <= 60 s in 4 GiB).

``accord.synth.whatif.compare`` (two packs, one lazy plan) or ``whatif.counts`` (one pack)
over ``scan_parquet`` of a synthetic history. Baseline, same run: a raw Polars scan and
group-by of the same Parquet (count of detainers per disposition and form). Writes the
history first under bench/data/ unless --history points at one (e.g. from bench/synth.py --keep).

    python bench/simulate.py --rows 1000000                 # quick, two packs
    python bench/simulate.py                                # 10,000,000 rows, nyc_doc vs texas
    python bench/simulate.py --history bench/data/synth --one-pack   # 100 M rows written by bench/synth.py --keep
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
from accord.synth.whatif import compare, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--history", type=Path, default=None, help="existing history directory (detainers/*.parquet)")
    ap.add_argument("--one-pack", action="store_true", help="decide under --pack only (the 100 M figure)")
    ap.add_argument("--pack", default="texas")
    ap.add_argument("--against", default="nyc_doc")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    made = args.history is None
    root = args.history or Path(__file__).parent / "data" / f"simulate-{args.rows}"
    if made:
        write_history(root, NYC_2020, args.rows, seed=0, chunk_rows=1_000_000, id_prefix="s-", record_requests=False)
    files = sorted((root / "detainers").glob("*.parquet"))
    rows = pl.scan_parquet(files).select(pl.len()).collect().item()

    t0 = time.perf_counter()
    base = pl.scan_parquet(files).group_by("disposition", "form").agg(pl.len()).collect(engine="streaming")
    base_s = time.perf_counter() - t0
    assert base["len"].sum() == rows

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if args.one_pack:
        result = counts(pl.scan_parquet(files), args.pack, engine="streaming")
        label = f"{args.pack}"
        assert result["detainers"] == rows
    else:
        w = compare(pl.scan_parquet(files), args.against, args.pack, engine="streaming")
        label = f"{args.against} vs {args.pack}"
        print(w.table)
        print(w.rule_drivers.head(8))
    seconds = time.perf_counter() - t0
    peak_gib = max(rss0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 2**20
    print(f"what-if ({label}): {rows:,} detainers in {seconds:.2f} s = {rows / seconds:,.0f} rows/s; peak RSS {peak_gib:.2f} GiB")
    print(f"baseline (raw polars scan + group-by of the same Parquet): {base_s:.2f} s")
    if made and not args.keep:
        shutil.rmtree(root)
    goal = 60.0 * rows / 100_000_000 if args.one_pack else 5.0 * rows / 10_000_000
    print(json.dumps({
        "figure": "whatif_one_pack_seconds" if args.one_pack else "whatif_two_packs_seconds", "value": round(seconds, 2), "unit": "s",
        "baseline": round(base_s, 2), "ratio": round(seconds / base_s, 2), "rows": rows, "packs": label,
        "goal_seconds_at_this_size": round(goal, 2), "peak_rss_gib": round(peak_gib, 2),
    }))


if __name__ == "__main__":
    main()
