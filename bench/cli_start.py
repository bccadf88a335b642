"""How fast `accord` commands start, against Python and Typer alone in the same run (issue #16).

Runs each command as a fresh process, as a person types it, ``--repeat`` times, and prints the
median wall time beside two baselines measured in the same run: ``python -c pass`` (the floor)
and ``python -c "import typer"`` (what any Typer CLI pays). Goals: ``accord --help`` and
``accord packs list`` <= 0.3 s, ``accord decide CASE.json`` <= 0.5 s. The fair ratio is against
``import typer`` (the same work a CLI built on Typer must do before it does anything). The last line
is JSON.

    python bench/cli_start.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "src/accord/law/examples/nyc_case.json"
ACCORD = [sys.executable, "-c", "from accord.cli import main; main()"]

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import typer'": [sys.executable, "-c", "import typer"],
    "accord --help": [*ACCORD, "--help"],
    "accord packs list": [*ACCORD, "packs", "list"],
    "accord decide CASE.json": [*ACCORD, "decide", "--pack", "nyc_doc", str(CASE)],
}
GOALS = {"accord --help": 0.3, "accord packs list": 0.3, "accord decide CASE.json": 0.5}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=ROOT)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    for cmd in COMMANDS.values():  # warm the file cache and the .pyc files once
        wall(cmd)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):  # interleaved, so a slow minute hits every command alike
        for name, cmd in COMMANDS.items():
            times[name].append(wall(cmd))
    med = {name: statistics.median(ts) for name, ts in times.items()}
    floor, typer_base = med["python -c pass"], med["python -c 'import typer'"]
    print(f"{'command':<28} {'median s':>9} {'vs pass':>8} {'vs typer':>9} {'goal':>6}")
    for name, m in med.items():
        goal = GOALS.get(name)
        mark = "" if goal is None else ("  met" if m <= goal else "  NOT met")
        print(f"{name:<28} {m:9.3f} {m / floor:7.1f}x {m / typer_base:8.2f}x {goal or '':>6}{mark}")
    fair = {name: round(med[name] / typer_base, 3) for name in GOALS}
    print(json.dumps({"bench": "cli_start", "repeat": args.repeat, "median_s": {k: round(v, 4) for k, v in med.items()},
                      "goals_s": GOALS, "met": {k: med[k] <= g for k, g in GOALS.items()},
                      "baseline": "python -c pass", "ratio": {k: round(med[k] / floor, 2) for k in GOALS},
                      "fair_baseline": "python -c 'import typer'", "fair_ratio": fair}))


if __name__ == "__main__":
    main()
