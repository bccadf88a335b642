"""Benchmark: what-if replay of a detainer history (goals: 10 M rows under two packs <= 3 s; 100 M under one <= 60 s in 4 GiB).

``accord.synth.whatif.compare`` (two packs, one lazy plan) or ``whatif.counts`` (one pack)
over ``scan_parquet`` of a synthetic history. Baselines, same run, same Parquet, same process:

* fair (issue 16): the same rules — NYC DOC §9-131 and Texas art. 2.251, with the packs' own
  parameter values for the history's dates — written by hand as one plain Polars expression over
  the FACTS columns, computing the same side-by-side table (checked equal to Accord's, untimed);
* old (kept for comparison, printed once): a scan and group-by of two columns that evaluates no rule.

Writes the history first under bench/data/ unless --history points at one (e.g. from bench/synth.py --keep).

    python bench/simulate.py --rows 1000000                 # quick, two packs
    python bench/simulate.py                                # 10,000,000 rows, nyc_doc vs texas
    python bench/simulate.py --history bench/data/synth --one-pack   # 100 M rows written by bench/synth.py --keep
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from datetime import date
from pathlib import Path

import polars as pl

from accord.synth.parquet import write_history
from accord.synth.profile import NYC_2020
from accord.synth.whatif import METRICS, compare, counts

GOAL_TWO_PACKS_S_PER_10M = 3.0
GOAL_ONE_PACK_S_PER_100M = 60.0
ACTIONS = {"hold": "requests_hold", "notify": "requests_notify", "transfer": "requests_transfer"}


def _outcome(requested: pl.Expr, decided: pl.Expr) -> pl.Expr:
    """A requested action's answer: ``decided`` (allow/deny/require), insufficient where its facts are unknown."""
    return pl.when(~requested.fill_null(False)).then(None).when(decided.is_null()).then(pl.lit("insufficient_facts")).otherwise(decided)


def nyc_doc_by_hand(on: date) -> dict[str, pl.Expr]:
    """NYC Admin. Code §9-131 (since LL 2014/058): hold, notify and transfer only on a judicial warrant
    and the danger prong (violent-or-serious conviction within 5 years of release from incarceration,
    counted back from the local arrest date, or a TSDB match)."""
    from accord.law import load_pack
    from accord.law.vector import local_date_pl

    pack = load_pack("nyc_doc")
    p = pack.params_at(on)
    jw = pl.col("judicial_warrant_judge_kind").is_in(p["judicial_warrant_judges"]) & ~pl.col("judicial_pc_determination_only")
    arrested = local_date_pl(pl.col("arrested_at"), pack.tz)
    recent = pl.col("nyc_violent_or_serious_ever") & (pl.col("nyc_vs_lookback_from") >= arrested.dt.offset_by(f"-{p['lookback_years']}y"))
    danger = recent | pl.col("terrorist_screening_match")
    may = jw & danger
    transfer = danger & (jw | (not p["transfer_requires_judicial_warrant"]))
    answer = {"hold": may, "notify": may, "transfer": transfer}
    return {a: _outcome(pl.col(req), pl.when(answer[a].is_null()).then(None).when(answer[a]).then(pl.lit("allow")).otherwise(pl.lit("deny")))
            for a, req in ACTIONS.items()}


def texas_by_hand(on: date) -> dict[str, pl.Expr]:
    """Tex. Code Crim. Proc. art. 2.251 (2A.060 from 2025): honour an ICE detainer's every request (require),
    unless the person has shown proof of lawful status (allow)."""
    from accord.law import load_pack

    p = load_pack("texas").params_at(on)
    comp = pl.col("issuing_component")
    duty = (comp == "ICE") | ((comp == "CBP") & p["cbp_detainers_covered"])
    proof = pl.col("status_proof_presented")
    decided = (pl.when(duty.is_null()).then(None).when(~duty).then(pl.lit("allow"))
               .when(proof.is_null()).then(None).when(proof).then(pl.lit("allow")).otherwise(pl.lit("require")))
    return {a: _outcome(pl.col(req), decided) for a, req in ACTIONS.items()}


def metrics_by_hand(outcomes: dict[str, pl.Expr]) -> list[pl.Expr]:
    allowed = [pl.col(ACTIONS[a]).fill_null(False) & outcomes[a].is_in(["allow", "require"]).fill_null(False) for a in ACTIONS]
    return [
        pl.len().alias("detainers"), allowed[0].sum().alias("holds"), allowed[1].sum().alias("notifications"),
        allowed[2].sum().alias("transfers"), (~pl.any_horizontal(allowed)).sum().alias("declined"),
        pl.any_horizontal([(o == "require").fill_null(False) for o in outcomes.values()]).sum().alias("required"),
        pl.any_horizontal([(o == "insufficient_facts").fill_null(False) for o in outcomes.values()]).sum().alias("insufficient_facts"),
    ]


def by_hand(files: list[Path], on: date, one_pack: str | None = None) -> dict[str, dict[str, int]]:
    """The side-by-side counts as one plain Polars query (both packs in one pass, streaming)."""
    packs = {"nyc_doc": nyc_doc_by_hand(on), "texas": texas_by_hand(on)}
    if one_pack:
        packs = {one_pack: packs[one_pack]}
    exprs = [e.alias(f"{pack}:{e.meta.output_name()}") for pack, outs in packs.items() for e in metrics_by_hand(outs)]
    row = pl.scan_parquet(files).select(exprs).collect(engine="streaming").row(0, named=True)
    return {pack: {m: int(row[f"{pack}:{m}"]) for m, _ in METRICS} for pack in packs}


def history_dates(files: list[Path]) -> tuple[date, date]:
    span = pl.scan_parquet(files).select(pl.col("received_at").min().alias("a"), pl.col("received_at").max().alias("b")).collect()
    return span["a"][0].date(), span["b"][0].date()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--history", type=Path, default=None, help="existing history directory (detainers/*.parquet)")
    ap.add_argument("--one-pack", action="store_true", help="decide under --pack only (the 100 M figure)")
    ap.add_argument("--pack", default="texas")
    ap.add_argument("--against", default="nyc_doc")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    if {args.pack, args.against} != {"texas", "nyc_doc"}:
        ap.error("the hand-written baseline covers nyc_doc and texas only")

    made = args.history is None
    root = args.history or Path(__file__).parent / "data" / f"simulate-{args.rows}"
    if made:
        write_history(root, NYC_2020, args.rows, seed=0, chunk_rows=1_000_000, id_prefix="s-", record_requests=False)
    files = sorted((root / "detainers").glob("*.parquet"))
    rows = pl.scan_parquet(files).select(pl.len()).collect().item()
    first, last = history_dates(files)
    from accord.law import load_pack

    for pid in ("nyc_doc", "texas"):  # the hand-written rules are one version of each law: the history must sit in it
        pack = load_pack(pid)
        if {r.id for r in pack.rules_at(first)} != {r.id for r in pack.rules_at(last)}:
            raise SystemExit(f"{pid}: the law changed between {first} and {last}; the hand-written baseline has one version")

    t0 = time.perf_counter()
    base = pl.scan_parquet(files).group_by("disposition", "form").agg(pl.len()).collect(engine="streaming")
    old_s = time.perf_counter() - t0
    assert base["len"].sum() == rows

    t0 = time.perf_counter()
    hand = by_hand(files, first, args.pack if args.one_pack else None)
    fair_s = time.perf_counter() - t0

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    if args.one_pack:
        result = counts(pl.scan_parquet(files), args.pack, engine="streaming")
        label = f"{args.pack}"
        assert result["detainers"] == rows
        mine = {args.pack: result}
    else:
        w = compare(pl.scan_parquet(files), args.against, args.pack, engine="streaming")
        label = f"{args.against} vs {args.pack}"
        print(w.table)
        print(w.rule_drivers.head(8))
        mine = {p: dict(zip(w.table["metric"].to_list(), w.table[p].to_list(), strict=True)) for p in (args.against, args.pack)}
    seconds = time.perf_counter() - t0
    same = all(mine[p] == hand[p] for p in mine)
    peak_gib = max(rss0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 2**20
    print(f"what-if ({label}): {rows:,} detainers in {seconds:.2f} s = {rows / seconds:,.0f} rows/s; peak RSS {peak_gib:.2f} GiB")
    print(f"fair baseline (the same rules by hand, one Polars expression, same table{'' if same else ' — DIFFERS'}): "
          f"{fair_s:.2f} s -> Accord is {seconds / fair_s:.2f}x")
    print(f"old baseline, shown once for comparison (scan + group-by of two columns, no rule): {old_s:.2f} s -> "
          f"{seconds / old_s:.2f}x")
    if not same:
        print(f"  hand-written: {hand}\n  Accord:       {mine}")
    if made and not args.keep:
        shutil.rmtree(root)
    goal = GOAL_ONE_PACK_S_PER_100M * rows / 100_000_000 if args.one_pack else GOAL_TWO_PACKS_S_PER_10M * rows / 10_000_000
    print(json.dumps({
        "figure": "whatif_one_pack_seconds" if args.one_pack else "whatif_two_packs_seconds", "value": round(seconds, 2), "unit": "s",
        "fair_baseline": round(fair_s, 2), "fair_ratio": round(seconds / fair_s, 2),
        "fair_baseline_is": "the same rules written by hand as one plain Polars expression (streaming), same table",
        "fair_baseline_same_table": same, "old_baseline": round(old_s, 2), "old_ratio": round(seconds / old_s, 2),
        "rows": rows, "packs": label, "goal_seconds_at_this_size": round(goal, 2), "goal_met": seconds <= goal,
        "peak_rss_gib": round(peak_gib, 2), "cores": os.cpu_count(), "load_average": round(os.getloadavg()[0], 1),
    }))


if __name__ == "__main__":
    main()
