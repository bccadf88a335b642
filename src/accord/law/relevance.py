"""Which unknown facts an undecided action actually depends on: one definition for ``decide`` and ``decide_batch``.

Three-valued evaluation says *that* an action is undecided; it does not say which of the
unknown facts could settle it. ``terrorist_screening_match or (nyc_violent_or_serious_ever and
nyc_vs_lookback_from >= ...)`` is unknown when the screening flag is unknown, and the
look-back date is null too (the person has no violent-or-serious conviction), yet only the
flag can change the answer: ``nyc_violent_or_serious_ever`` is false.

The definition, used by both evaluators:

* the **atoms** of an action are the distinct boolean leaves of its rules' conditions after
  predicates and parameters are inlined (comparisons, ``in``, boolean facts); ``and``/``or``/
  ``not`` connect them. Each atom is true, false or unknown on a row (compiled by
  :func:`accord.law.expr.compile_py` or :func:`accord.law.vector.compile_pl`, proven equal);
* an unknown atom is **relevant** when some assignment of true/false to the row's unknown
  atoms gives a different outcome (rule precedence as in :mod:`accord.law.engine`) when
  only that atom is flipped. Atoms are treated as independent, so the test errs towards
  listing a fact, never towards hiding one that could matter;
* the **missing facts** are the null facts read by a relevant atom. Should no atom be
  relevant while three-valued evaluation still leaves the action open (a tautology such as
  ``x or not x``), or should more than :data:`MAX_UNKNOWN` atoms be unknown, every null fact
  read by an unknown atom is listed: the list is never empty for an undecided action.

Rows are described by a *state key* (two bits per atom: 0 false, 1 true, 2 unknown) and the
answer, a bit mask of atoms, is a pure function of that key, memoised per action.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.domain.enums import Outcome

from .expr import Const, Node, Op

#: Beyond this many unknown atoms the 2**n enumeration is not attempted (all unknown atoms are listed).
MAX_UNKNOWN = 12
FALSE, TRUE, UNKNOWN = 0, 1, 2

BoolFn = Callable[[tuple[bool, ...]], bool]


def atoms_of(node: Node, out: dict[Node, int]) -> None:
    """Collect the boolean leaves of an inlined condition, in first-seen order."""
    match node:
        case Op(op="and" | "or" | "not", args=args):
            for a in args:
                atoms_of(a, out)
        case Const():
            return
        case _:
            out.setdefault(node, len(out))


def _bool_fn(node: Node, index: Mapping[Node, int]) -> BoolFn:
    """The condition as a two-valued function of the atoms' values."""
    match node:
        case Op(op="and", args=args):
            fs = tuple(_bool_fn(a, index) for a in args)
            return lambda v: all(f(v) for f in fs)
        case Op(op="or", args=args):
            fs = tuple(_bool_fn(a, index) for a in args)
            return lambda v: any(f(v) for f in fs)
        case Op(op="not", args=(a,)):
            f = _bool_fn(a, index)
            return lambda v: not f(v)
        case Const(value=c):
            b = bool(c)
            return lambda v: b
    i = index[node]
    return lambda v: v[i]


@dataclass(frozen=True)
class _TreeNode:
    outcome: Outcome
    cond: BoolFn
    kids: tuple[_TreeNode, ...]


def _outcome(n: _TreeNode, v: tuple[bool, ...]) -> Outcome | None:
    """Two-valued precedence: the first exception that applies decides, else the rule if its condition holds."""
    for k in n.kids:
        r = _outcome(k, v)
        if r is not None:
            return r
    return n.outcome if n.cond(v) else None


@dataclass
class ActionAtoms:
    """An action's atoms, the facts each reads, and its rule tree over them."""

    atoms: tuple[Node, ...]
    atom_facts: tuple[frozenset[str], ...]
    tree: _TreeNode
    _memo: dict[int, int] = field(default_factory=dict, repr=False)

    def relevant(self, key: int) -> int:
        """Bit mask of the atoms whose value could change the outcome, for a row with state ``key``."""
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self._relevant(key)
        return got

    def _relevant(self, key: int) -> int:
        states = [(key >> (2 * i)) & 3 for i in range(len(self.atoms))]
        unknown = [i for i, s in enumerate(states) if s == UNKNOWN]
        everyone = sum(1 << i for i in unknown)
        if not unknown or len(unknown) > MAX_UNKNOWN:
            return everyone
        base = [s == TRUE for s in states]
        outs = []
        for bits in range(1 << len(unknown)):
            for j, i in enumerate(unknown):
                base[i] = bool(bits >> j & 1)
            outs.append(_outcome(self.tree, tuple(base)))
        mask = 0
        for j, i in enumerate(unknown):
            bit = 1 << j
            if any(outs[b] != outs[b | bit] for b in range(len(outs)) if not b & bit):
                mask |= 1 << i
        return mask or everyone

    def missing(self, key: int, is_null: Callable[[str], bool]) -> tuple[str, ...]:
        """The null facts read by the relevant atoms, sorted."""
        mask = self.relevant(key)
        return tuple(sorted({x for i, fs in enumerate(self.atom_facts) if mask >> i & 1 for x in fs if is_null(x)}))

    def facts_mask(self) -> dict[str, int]:
        """For each fact, the atoms (bit mask) that read it (what the vectorised path needs)."""
        out: dict[str, int] = {}
        for i, fs in enumerate(self.atom_facts):
            for x in fs:
                out[x] = out.get(x, 0) | (1 << i)
        return dict(sorted(out.items()))


def action_atoms(root: Any, cond_of: Callable[[Any], Node], kids_of: Callable[[Any], Any], outcome_of: Callable[[Any], Outcome]) -> ActionAtoms:
    """Build an action's atoms from its rule tree (``cond_of`` returns a rule's *inlined* condition)."""
    index: dict[Node, int] = {}

    def collect(r: Any) -> None:
        atoms_of(cond_of(r), index)
        for k in kids_of(r):
            collect(k)

    collect(root)
    if len(index) > 31:
        raise ValueError(f"an action with {len(index)} distinct conditions is beyond the 31 the state key holds")

    def build(r: Any) -> _TreeNode:
        return _TreeNode(outcome_of(r), _bool_fn(cond_of(r), index), tuple(build(k) for k in kids_of(r)))

    atoms = tuple(index)
    return ActionAtoms(atoms, tuple(frozenset(a.facts()) for a in atoms), build(root))


def state_key(values: Any) -> int:
    """Two bits per atom from its three-valued value (None = unknown)."""
    key = 0
    for i, v in enumerate(values):
        key |= (UNKNOWN if v is None else TRUE if v else FALSE) << (2 * i)
    return key
