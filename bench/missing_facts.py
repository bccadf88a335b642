"""Figure: how many unknown facts an undecided action names, now (only those that could change the
answer, ``accord.law.relevance``) against the baseline (every null fact of every rule whose condition
was unknown, the definition before issue #14), on the property test's random FACT rows; and what the
vectorised missing-fact lists cost ``decide_batch``.

Fair baseline (issue 16) of the cost figure: the same ``decide_batch`` on the same rows without the
missing-fact lists (the plain tool doing the same decisions, same process); ``fair_ratio`` is the time
with the lists over the time without, summed over every pack. The final JSON line carries it beside the
per-pack figures.

Usage: python bench/missing_facts.py [--rows N] [--seed S]. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

from accord.domain.enums import Action, Outcome
from accord.law import decide, decide_batch, list_packs, load_pack
from accord.law.engine import LAW_DATE, _eval, law_date_of, plan_for
from accord.law.sample import random_facts


def _baseline(row: dict, pack, action: Action) -> list[str]:
    on = law_date_of(row, pack, None)
    plan = plan_for(pack, on)
    f = dict(row, **{LAW_DATE: on})
    unknown: list = []
    _eval(plan.roots[action], f, [], unknown)
    return sorted({x for n in unknown for x in n.facts if f.get(x) is None})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    out = {}
    for pid in list_packs():
        pack = load_pack(pid)
        frame = random_facts(pack, args.rows, args.seed)
        now = before = cases = narrowed = 0
        for row in frame.iter_rows(named=True):
            d = decide(row, pack)
            for a, ad in d.decisions.items():
                if ad.outcome is not Outcome.INSUFFICIENT_FACTS or law_date_of(row, pack, None) is None or ad.missing[:1] == (REQ.get(a),):
                    continue
                old = _baseline(row, pack, a)
                cases += 1
                now += len(ad.missing)
                before += len(old)
                narrowed += len(ad.missing) < len(old)
        decide_batch(frame, pack)  # warm-up (the pack's compiled plan), untimed
        decide_batch(frame, pack, missing=True)
        plain = with_lists = float("inf")
        for _ in range(3):  # best of three, alternating
            t = time.perf_counter()
            decide_batch(frame, pack)
            plain = min(plain, time.perf_counter() - t)
            t = time.perf_counter()
            decide_batch(frame, pack, missing=True)
            with_lists = min(with_lists, time.perf_counter() - t)
        out[pid] = {"undecided": cases, "facts_named_now": round(now / max(cases, 1), 2),
                    "facts_named_before": round(before / max(cases, 1), 2), "share_narrowed": round(narrowed / max(cases, 1), 3),
                    "batch_s": round(plain, 3), "batch_with_missing_s": round(with_lists, 3)}
        print(f"{pid:17} undecided actions {cases:6}  facts named per action {out[pid]['facts_named_now']:.2f} "
              f"(before {out[pid]['facts_named_before']:.2f}); narrowed {out[pid]['share_narrowed']:.1%}; "
              f"decide_batch {plain:.3f}s, with missing lists {with_lists:.3f}s")
    with_s = sum(v["batch_with_missing_s"] for v in out.values())
    plain_s = sum(v["batch_s"] for v in out.values())
    print(f"decide_batch with missing-fact lists, every pack: {with_s:.3f} s; without (fair baseline): {plain_s:.3f} s "
          f"-> {with_s / plain_s:.2f}x")
    print(json.dumps({"figure": "decide_batch_with_missing_lists_s", "value": round(with_s, 3), "unit": "s",
                      "fair_baseline": round(plain_s, 3), "fair_ratio": round(with_s / plain_s, 2),
                      "fair_baseline_is": "decide_batch on the same rows without missing-fact lists, every pack",
                      "rows": args.rows, "packs": out}))


from accord.law.engine import REQUESTED_BY_FORM as REQ  # noqa: E402

if __name__ == "__main__":
    main()
