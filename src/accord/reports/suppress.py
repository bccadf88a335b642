"""Small-cell suppression: no published count below the threshold can be recovered.

A published table is a set of count cells plus the sums it publishes (a Total row,
a total column). Each published sum is a linear constraint ``total = sum(members)``.
Suppressing only the small cells is not enough: a lone hidden cell in a row with a
published total is the total minus the rest. So, after primary suppression
(``0 < value < threshold``), complementary suppressions are chosen (fewest and smallest, by an
integer programme: see :func:`suppress_cells`) until

* no constraint has exactly one hidden cell (the second-smallest cell of that
  row/column is hidden too),
* no constraint's hidden cells are all ones (zeros are published, so an attacker
  knows a hidden cell is at least 1, and ``1 + 1 = 2`` would give both away), and
* no hidden cell is determined by the published constraints as a linear system
  (a "bridge" between two blocks of hidden cells is pinned even though every row
  and column has two hidden cells); checked with the null space of the system, and
* no hidden small cell is pinned once bounds are added (each hidden cell >= 1):
  an attacker's linear programme — smallest and largest value of the cell
  consistent with everything published — must leave it a range. Published sums
  are network constraints, so the LP bounds are the integer bounds.

Figures published elsewhere in the same report (another table, an extra section) are
known to the attacker whatever this table does: hiding such a cell protects nothing, so
cells in ``known`` are never chosen as complements (the attacker model then treats them
as published, which they are). Cells in ``keep`` (headline figures a reader came for) are
chosen as complements only when nothing else in the sum can be.

Zeros are published (common practice: a zero describes nobody), unless
``suppress_zeros`` is set. Cells are hidden as ``None``; primary and complementary
suppressions look the same, so neither can be told apart.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 10

Cell = Hashable


@dataclass(frozen=True)
class Constraint:
    """A published sum: ``total`` equals the sum of ``members``."""

    total: Cell
    members: tuple[Cell, ...]

    @property
    def cells(self) -> tuple[Cell, ...]:
        return (self.total, *self.members)


def suppress_cells(
    values: Mapping[Cell, int],
    constraints: Sequence[Constraint],
    threshold: int = DEFAULT_THRESHOLD,
    *,
    suppress_zeros: bool = False,
    known: Collection[Cell] = (),
    keep: Collection[Cell] = (),
    sensitive: Collection[Cell] = (),
) -> set[Cell]:
    """Return the cells to hide so that no value below ``threshold`` can be recovered.

    ``known``: cells whose exact value the report publishes elsewhere (never complements; a known
    cell below the threshold is a leak elsewhere, so it is refused). ``keep``: headline cells,
    complements of last resort. ``sensitive``: cells to hide and protect like small ones whatever their
    value (a figure another table hid as a complement, which this table must not give away).

    Secondary (complementary) cells are chosen for minimum information loss, as tau-Argus and
    sdcTable do: an integer programme picks the set of complements with the smallest total value
    (each cell costs its value plus one, so fewer and smaller cells win; headline cells cost far
    more) such that every published sum holding a hidden cell holds at least two. The attacker's
    linear programme then audits the choice; where it still pins a cell, a cut asks for one more
    complement beside it and the programme is solved again (a few rounds at most; a greedy step
    finishes if the rounds run out, so the result is always audited).
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    low = 0 if suppress_zeros else 1
    primary = {c for c, v in values.items() if low <= v < threshold} | set(sensitive)
    exposed = sorted((c for c in known if c in primary and values[c] > 0), key=str)
    if exposed:
        raise ValueError(f"cell(s) {exposed} below the threshold are published elsewhere in the report")
    if not primary:
        return primary
    constraints = [k for k in constraints if len(k.members) > 0]
    pick = _Picker(values, frozenset(known), frozenset(keep))
    program = _Programme(values, constraints, primary, frozenset(known), frozenset(keep), threshold, suppress_zeros)
    hidden = set(primary)
    found: set[Cell] | None = None
    for round_no in range(MAX_ROUNDS):
        chosen = program.solve()
        if chosen is None:  # no optimum in time: complete greedily from the primaries
            break
        hidden = chosen
        pinned = _audit(values, constraints, hidden, threshold, frozenset(sensitive))
        if not pinned:
            if round_no == 0:
                # the optimum of conditions every safe choice meets, and safe: nothing hides less
                return hidden
            found = hidden
            break
        if not program.cut(hidden, pinned):
            break
    if found is None:
        found = _greedy(values, constraints, hidden, threshold, pick, frozenset(sensitive))
    # The cuts only steer the programme (they are not valid inequalities), so after them its answer can hide
    # more than adding complements one at a time from the primaries: keep whichever loses less.
    plain = _greedy(values, constraints, set(primary), threshold, pick, frozenset(sensitive))
    return min((found, plain), key=lambda h: (_hides_zero(values, h - primary), _loss(values, h)))


def _loss(values: Mapping[Cell, int], hidden: set[Cell]) -> int:
    """The information a choice hides, as the programme counts it: each cell its value plus one."""
    return sum(values[c] + 1 for c in hidden)


def _hides_zero(values: Mapping[Cell, int], complements: set[Cell]) -> bool:
    """A published zero used as a complement (the reader is told zeros are published): a last resort."""
    return any(values[c] == 0 for c in complements)


#: rounds of solve-audit-cut before the greedy step finishes the job
MAX_ROUNDS = 12
#: seconds the integer programme may take per round (then its best answer so far is used)
TIME_LIMIT_S = 5.0


def _audit(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell], threshold: int,
           sensitive: frozenset) -> list[Cell]:
    """Hidden cells an attacker can still pin: a lone or all-ones cell in a sum, a cell the sums determine,
    or a small cell whose LP range is one value."""
    lone = []
    for k in constraints:
        inside = [c for c in k.cells if c in hidden]
        members_hidden = [c for c in k.members if c in hidden]
        if len(inside) == 1 or (k.total not in hidden and members_hidden
                                and sum(values[c] for c in members_hidden) <= len(members_hidden)):
            lone.extend(inside)
    if lone:
        return sorted(set(lone), key=str)
    return _linearly_determined(values, constraints, hidden) or _pinned_by_bounds(values, constraints, hidden, threshold, sensitive)


class _Programme:
    """The complement-choosing integer programme (scipy's HiGHS MILP), with the cuts the audit added."""

    def __init__(self, values: Mapping[Cell, int], constraints: Sequence[Constraint], primary: set[Cell], known: frozenset,
                 keep: frozenset, threshold: int, suppress_zeros: bool = False) -> None:
        self.values, self.constraints, self.known = values, constraints, known
        touched = {c for k in constraints for c in k.cells}
        self.cells = sorted(touched | primary, key=str)
        self.index = {c: i for i, c in enumerate(self.cells)}
        heavy = 1000.0 * (1 + max(values.values(), default=0))
        self.cost = np.array([(heavy if c in keep else 0.0) + (values[c] + 1.0 if values[c] > 0 else float(threshold))
                              for c in self.cells])
        lower = np.array([1.0 if c in primary else 0.0 for c in self.cells])
        # a published zero stays published (the reader is told so): it is never a complement
        banned = {c for c in self.cells if c not in primary and (c in known or (values[c] == 0 and not suppress_zeros))}
        upper = np.array([0.0 if c in banned else 1.0 for c in self.cells])
        self.bounds = (lower, upper)
        rows = []
        for k in constraints:  # a hidden cell of a sum has a second hidden cell in it: sum(y) - 2 y_c >= 0
            members = [self.index[c] for c in dict.fromkeys(k.cells)]
            for i in members:
                row = np.zeros(len(self.cells))
                row[members] = 1.0
                row[i] -= 2.0
                rows.append(row)
        self.rows = rows
        self.cuts: list[np.ndarray] = []

    def solve(self) -> set[Cell] | None:
        from scipy.optimize import Bounds, LinearConstraint, milp

        a = self.rows + self.cuts
        cons = [LinearConstraint(np.vstack(a), np.zeros(len(self.rows)).tolist() + [1.0] * len(self.cuts), np.inf)] if a else []
        res = milp(self.cost, constraints=cons, bounds=Bounds(*self.bounds), integrality=np.ones(len(self.cells)),
                   options={"time_limit": TIME_LIMIT_S, "disp": False})
        if res.x is None:  # infeasible without hiding a zero, or out of time: the greedy step decides
            return None
        return {c for c, y in zip(self.cells, res.x, strict=True) if y > 0.5}

    def cut(self, hidden: set[Cell], pinned: list[Cell]) -> bool:
        """Ask for one more visible, usable cell beside each pinned cell (in a sum it is in, else in any sum
        touching a hidden cell). False when there is none to ask for."""
        added = False
        for cell in pinned:
            near = {c for k in self.constraints if cell in k.cells for c in k.cells}
            free = [c for c in near if c not in hidden and c not in self.known]
            if not free:
                wider = {c for k in self.constraints if any(x in hidden for x in k.cells) for c in k.cells}
                free = [c for c in wider if c not in hidden and c not in self.known]
            if not free:
                continue
            row = np.zeros(len(self.cells))
            row[[self.index[c] for c in free]] = 1.0
            self.cuts.append(row)
            added = True
        return added


def _greedy(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell], threshold: int,
            pick: "_Picker", sensitive: frozenset) -> set[Cell]:
    """Add complements one at a time until the audit passes (the fallback when the programme gives up)."""
    hidden = set(hidden)
    while True:
        added = _complete_constraints(values, constraints, hidden, pick)
        if added:
            continue
        pinned = _linearly_determined(values, constraints, hidden)
        if not pinned:
            pinned = _pinned_by_bounds(values, constraints, hidden, threshold, sensitive)
        if not pinned:
            return hidden
        if not _protect(values, constraints, hidden, pinned, pick):
            if pick.known:  # only figures published elsewhere are left to hide: they would not help
                raise ValueError(f"cell(s) {sorted(pinned, key=str)} below the threshold follow from figures "
                                 "published elsewhere in the report; publish fewer figures there")
            return hidden  # everything that could be hidden already is


@dataclass(frozen=True)
class _Picker:
    """Chooses complements: never a cell known from elsewhere, headline cells last, small non-zero cells first."""

    values: Mapping[Cell, int]
    known: frozenset
    keep: frozenset

    def __call__(self, cells: Iterable[Cell], hidden: set[Cell]) -> Cell | None:
        visible = [c for c in cells if c not in hidden and c not in self.known]
        if not visible:
            return None
        v = self.values
        return min(visible, key=lambda c: (c in self.keep, v[c] == 0, v[c], str(c)))


def _complete_constraints(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell], pick: _Picker) -> bool:
    """Hide a second cell wherever one hidden cell (or only hidden ones) would be given away."""
    changed = False
    for k in constraints:
        inside = [c for c in k.cells if c in hidden]
        if not inside:
            continue
        members_hidden = [c for c in k.members if c in hidden]
        lone = len(inside) == 1
        # zeros are published, so each hidden member is >= 1: all-ones members are pinned
        all_ones = (
            k.total not in hidden
            and len(members_hidden) >= 1
            and sum(values[c] for c in members_hidden) <= len(members_hidden)
        )
        if lone or all_ones:
            extra = pick(k.cells, hidden)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return changed


def _linearly_determined(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell]) -> list[Cell]:
    """Hidden cells whose value follows from the published sums alone (null-space test)."""
    unknowns = sorted(hidden, key=str)
    index = {c: i for i, c in enumerate(unknowns)}
    rows = []
    for k in constraints:
        if not any(c in hidden for c in k.cells):
            continue
        row = np.zeros(len(unknowns))
        if k.total in hidden:
            row[index[k.total]] -= 1.0
        for m in k.members:
            if m in hidden:
                row[index[m]] += 1.0
        rows.append(row)
    if not rows:
        return []
    a = np.vstack(rows)
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:]  # basis of the null space: directions the hidden cells can move together
    if null.shape[0] == 0:
        return list(unknowns)
    movable = np.abs(null).max(axis=0) > 1e-9
    return [c for c, m in zip(unknowns, movable, strict=True) if not m]


def _pinned_by_bounds(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell], threshold: int,
                      sensitive: frozenset = frozenset()) -> list[Cell]:
    """Hidden small cells whose range, as the linear programme of an attacker finds it, is one value."""
    from scipy.optimize import linprog

    small = [c for c in hidden if 0 < values[c] < threshold or c in sensitive]
    if not small:
        return []
    unknowns = sorted(hidden, key=str)
    index = {c: i for i, c in enumerate(unknowns)}
    rows, rhs = [], []
    for k in constraints:
        row = np.zeros(len(unknowns))
        b = 0.0
        for c, sign in ((k.total, -1.0), *((m, 1.0) for m in k.members)):
            if c in index:
                row[index[c]] += sign
            else:
                b -= sign * values[c]
        if row.any():
            rows.append(row)
            rhs.append(b)
    if not rows:
        return []
    a_eq, b_eq = np.vstack(rows), np.array(rhs)
    # the attacker's model: zeros are published, so hidden cells are >= 1; if no table fits that
    # (a complementary zero is hidden), they fall back to >= 0
    for lower in (1.0, 0.0):
        bounds = [(lower, None)] * len(unknowns)
        pinned = []
        feasible = True
        for cell in sorted(small, key=str):
            # the true table is feasible, so the cell is pinned iff nothing else is: try below, then above it
            cost = np.zeros(len(unknowns))
            cost[index[cell]] = 1.0
            low = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if low.status == 2:  # infeasible under this model
                feasible = False
                break
            if low.status == 0 and low.fun < values[cell] - 0.5:
                continue
            high = linprog(-cost, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if high.status == 0 and -high.fun < values[cell] + 0.5:
                pinned.append(cell)
        if feasible:
            return pinned
    return []


def _protect(values: Mapping[Cell, int], constraints: Sequence[Constraint], hidden: set[Cell], pinned: list[Cell], pick: _Picker) -> bool:
    """Hide one more cell next to each pinned cell, in the constraint with fewest hidden cells."""
    changed = False
    for cell in pinned:
        around = sorted(
            (k for k in constraints if cell in k.cells),
            key=lambda k: sum(c in hidden for c in k.cells),
        )
        for k in around:
            extra = pick(k.cells, hidden)
            if extra is not None:
                hidden.add(extra)
                changed = True
                break
    if not changed:
        # the pinned cells' own sums are all hidden: widen to any published sum that touches a hidden cell
        near = {c for k in constraints if any(x in hidden for x in k.cells) for c in k.cells}
        extra = pick(near, hidden)
        if extra is not None:
            hidden.add(extra)
            changed = True
    return changed
