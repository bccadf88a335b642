"""Benchmark: `accord import ddp` of a 339,000-row synthetic release, against reading the same file alone.

    python bench/import_ddp.py                 # 339,000 rows (the latest release's size), xlsx and parquet
    python bench/import_ddp.py --rows 20000    # quick run
    python bench/import_ddp.py --formats parquet

The release (latest layout, 65 columns, two sheets with six title rows each; DOMAIN.md §7) is
generated once and reused from ``--dir``. For each format, in the same run and each in its own
process (so each phase's peak memory is its own): the fair baseline reads the file into a Polars
DataFrame and nothing else (``pl.read_excel`` with calamine, every sheet, the header row given;
``pl.read_parquet``); the import runs ``import_release`` into a fresh SQLite ledger (WAL,
synchronous=FULL) — hash, map, flag duplicates, append every event in one transaction.

Goals (issue 13): xlsx import <= 60 s and <= 4x the bare read; parquet import <= 15 s; peak memory
<= 2 GiB. The load average is printed: on a shared 2-core machine wall time mostly measures the
other work. The generated workbook is written by xlsxwriter in constant-memory mode (inline
strings); a workbook saved by Excel keeps a shared string table instead, which calamine reads too.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIB = 1024**3
GENERATOR = 1  # bump when the synthetic file changes, so cached files are remade

CHILD = {
    "generate": """
import sys, time
from pathlib import Path
from accord.ddp.sample import release_frame, write_parquet, write_xlsx
rows, seed, xlsx, parquet = int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
frame = release_frame(rows, layout="latest", seed=seed)
half = rows // 2
write_parquet(parquet.with_suffix(".tmp"), frame); parquet.with_suffix(".tmp").replace(parquet)
if sys.argv[6] == "1":
    write_xlsx(xlsx.with_suffix(".tmp.xlsx"), [("Detainers", frame.head(half)), ("Detainers (2)", frame.slice(half))])
    xlsx.with_suffix(".tmp.xlsx").replace(xlsx)
""",
    "read": """
import json, resource, sys, time
import polars as pl
path = sys.argv[2]
t = time.perf_counter()
if path.endswith(".xlsx"):
    sheets = pl.read_excel(path, sheet_id=0, engine="calamine", read_options={"header_row": 6})
    frame = pl.concat(list(sheets.values()), how="vertical_relaxed")
else:
    frame = pl.read_parquet(path)
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rows": frame.height, "cpu_s": time.process_time(),
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
""",
    "import": """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from accord.ddp.importer import import_release
from accord.ledger import Ledger
from accord.ledger.transaction import LedgerTx
path, db = Path(sys.argv[2]), Path(sys.argv[3])
# the ledger's share: time inside its append calls (numbering, hashing, inserting) and its commit
ledger = {"append_s": 0.0, "events": 0}
_append_prepared = LedgerTx.append_prepared
def timed_append(self, prepared):
    t = time.perf_counter()
    try:
        return _append_prepared(self, prepared)
    finally:
        ledger["append_s"] += time.perf_counter() - t
        ledger["events"] += len(prepared)
LedgerTx.append_prepared = timed_append
for suffix in ("", "-wal", "-shm", ".signing-key"):
    Path(f"{db}{suffix}").unlink(missing_ok=True)
led = Ledger.open(f"sqlite:///{db}")
phases = {}
t0 = time.perf_counter()
def progress(phase, n, total):
    phases.setdefault(phase, [time.perf_counter() - t0, 0.0])[1] = time.perf_counter() - t0
res = import_release(path, led, today=date(2026, 1, 1), rejects_path=db.with_suffix(".rejects.csv"), progress=progress)
seconds = time.perf_counter() - t0
ledger["commit_s"] = seconds - phases["write"][1]  # after the last chunk: the commit (and its WAL checkpoint)
ledger = {k: round(v, 2) for k, v in ledger.items()}
size = led.size
led.close()
print(json.dumps({"seconds": seconds, "rows": res.rows, "imported": res.imported, "events": size,
                  "likely_duplicates": res.likely_duplicates, "cpu_s": time.process_time(),
                  "phases": {k: [round(a, 2), round(b, 2)] for k, (a, b) in phases.items()}, "ledger": ledger,
                  "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
""",
}


def child(name: str, *args: object) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD[name], name, *map(str, args)], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
    lines = proc.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=339_000, help="rows in the synthetic release")
    ap.add_argument("--formats", default="xlsx,parquet", help="comma-separated: xlsx, parquet")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "accord-bench-ddp",
                    help="where the release is generated (reused when present)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    args.dir.mkdir(parents=True, exist_ok=True)
    stem = args.dir / f"release-g{GENERATOR}-{args.rows}-s{args.seed}"
    xlsx, parquet = stem.with_suffix(".xlsx"), stem.with_suffix(".parquet")
    need_xlsx = "xlsx" in formats and not xlsx.exists()
    if need_xlsx or not parquet.exists():
        t = time.perf_counter()
        print(f"generating {args.rows:,} synthetic rows{' (and the workbook: minutes)' if need_xlsx else ''} in {args.dir} ...",
              flush=True)
        child("generate", args.rows, args.seed, xlsx, parquet, int(need_xlsx))
        print(f"  generated in {time.perf_counter() - t:.0f} s", flush=True)

    load_before = os.getloadavg()[0]
    results: dict[str, dict] = {}
    for fmt in formats:
        path = xlsx if fmt == "xlsx" else parquet
        bare = child("read", path)
        imp = child("import", path, args.dir / f"bench-{fmt}.db")
        assert bare["rows"] == imp["rows"] == args.rows, (bare, imp)
        results[fmt] = {"bare": bare, "import": imp, "mb": path.stat().st_size / 1e6}
        print(f"{fmt:8} {path.stat().st_size / 1e6:7.1f} MB  bare read {bare['seconds']:6.2f} s "
              f"({bare['peak_rss'] / 2**20:5.0f} MiB)  import {imp['seconds']:6.2f} s "
              f"({imp['peak_rss'] / 2**20:5.0f} MiB, cpu {imp['cpu_s']:.1f} s)  ratio {imp['seconds'] / bare['seconds']:5.2f}  "
              f"phases {imp['phases']}", flush=True)
        led = imp["ledger"]
        print(f"{'':8} ledger: {led['append_s']:.2f} s in append_prepared + {led['commit_s']:.2f} s commit = "
              f"{(led['append_s'] + led['commit_s']) / imp['seconds']:.0%} of the import", flush=True)
    load_after = os.getloadavg()[0]
    print(f"load average {load_before:.1f} before, {load_after:.1f} after (other work stretches the wall time)")

    x, p = results.get("xlsx"), results.get("parquet")
    peak = max((r[k]["peak_rss"] for r in results.values() for k in ("bare", "import")), default=0)
    main_fmt = x or p
    assert main_fmt is not None
    ratio = main_fmt["import"]["seconds"] / main_fmt["bare"]["seconds"]
    out = {
        "figure": "ddp_import_xlsx_seconds" if x else "ddp_import_parquet_seconds",
        "value": round(main_fmt["import"]["seconds"], 2), "unit": "s",
        "baseline": round(main_fmt["bare"]["seconds"], 2), "ratio": round(ratio, 2),
        "fair_baseline": round(main_fmt["bare"]["seconds"], 2), "fair_ratio": round(ratio, 2),
        "rows": args.rows,
        "xlsx_import_s": round(x["import"]["seconds"], 2) if x else None,
        "xlsx_bare_read_s": round(x["bare"]["seconds"], 2) if x else None,
        "xlsx_mb": round(x["mb"], 1) if x else None,
        "parquet_import_s": round(p["import"]["seconds"], 2) if p else None,
        "parquet_bare_read_s": round(p["bare"]["seconds"], 2) if p else None,
        "peak_rss_mib": round(peak / 2**20), "import_cpu_s": {f: round(r["import"]["cpu_s"], 1) for f, r in results.items()},
        "import_peak_rss_mib": {f: round(r["import"]["peak_rss"] / 2**20) for f, r in results.items()},
        "ledger_s": {f: r["import"]["ledger"] for f, r in results.items()},
        "ledger_share": {f: round((r["import"]["ledger"]["append_s"] + r["import"]["ledger"]["commit_s"])
                                  / r["import"]["seconds"], 2) for f, r in results.items()},
        "goals": {"xlsx_import_s": 60, "xlsx_fair_ratio": 4, "parquet_import_s": 15, "peak_rss_mib": 2048},
        "meets_goals": bool((not x or (x["import"]["seconds"] <= 60 and x["import"]["seconds"] <= 4 * x["bare"]["seconds"]))
                            and (not p or p["import"]["seconds"] <= 15) and peak <= 2 * GIB),
        "load_average": [round(load_before, 1), round(load_after, 1)],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
