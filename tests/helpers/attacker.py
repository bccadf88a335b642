"""The tests' attacker on a published table: the exact integer range of a hidden cell (MILP).

Kept apart from ``accord.reports.suppress``'s own LP audit on purpose: the tests judge the
suppression with an independent, stronger (integer) adversary.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from accord.reports.suppress import Constraint


def feasible_range(cell: Hashable, unknown: Iterable[Hashable], values: Mapping[Hashable, int],
                   constraints: Sequence[Constraint]) -> tuple[int, float]:
    """Min and max of ``cell`` over all integer tables consistent with everything but ``unknown``.

    The attacker knows every other cell's value and every sum (``constraints``: total = sum of
    members). Zeros are normally published, so an unknown cell is >= 1; if that is impossible some
    unknown cell is a complementary zero, and the attacker falls back to >= 0.
    """
    unknown = sorted(unknown, key=str)
    idx = {c: i for i, c in enumerate(unknown)}
    rows, rhs = [], []
    for k in constraints:
        row, b = np.zeros(len(unknown)), 0
        for c, sign in [(k.total, -1), *((m, 1) for m in k.members)]:
            if c in idx:
                row[idx[c]] += sign
            else:
                b -= sign * values[c]
        if row.any():
            rows.append(row)
            rhs.append(b)
    cons = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
    integral = np.ones(len(unknown))
    for lower in (1, 0):
        bounds = Bounds(np.full(len(unknown), lower), np.full(len(unknown), np.inf))
        cost = np.zeros(len(unknown))
        cost[idx[cell]] = 1
        low = milp(cost, constraints=cons, bounds=bounds, integrality=integral)
        if low.status == 2:  # infeasible
            continue
        high = milp(-cost, constraints=cons, bounds=bounds, integrality=integral)
        hi = round(high.x[idx[cell]]) if high.status == 0 else float("inf")  # unbounded above
        return round(low.x[idx[cell]]), hi
    raise AssertionError("the true table must be a feasible assignment")
