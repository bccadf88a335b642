"""The definition of a fact that matters (accord.law.relevance), on small rule trees written here."""

from __future__ import annotations

from dataclasses import dataclass

from accord.domain.enums import Outcome
from accord.law.expr import Context, compile_py, inline, parse
from accord.law.relevance import MAX_UNKNOWN, action_atoms, state_key


@dataclass
class R:
    outcome: Outcome
    cond: str
    kids: tuple = ()


def _missing(root: R, facts: dict) -> tuple[str, ...]:
    ctx = Context()
    at = action_atoms(root, lambda r: inline(parse(r.cond), ctx), lambda r: r.kids, lambda r: r.outcome)
    key = state_key(compile_py(a, ctx)(facts) for a in at.atoms)
    return at.missing(key, lambda x: facts.get(x) is None)


DENY, ALLOW = Outcome.DENY, Outcome.ALLOW


def test_a_fact_behind_a_false_conjunct_does_not_matter():
    tree = R(DENY, "true", (R(ALLOW, "w and (t or (v and d))"),))
    assert _missing(tree, {"w": True, "t": None, "v": False, "d": None}) == ("t",)
    assert _missing(tree, {"w": True, "t": None, "v": True, "d": None}) == ("d", "t")
    assert _missing(tree, {"w": None, "t": None, "v": False, "d": None}) == ("t", "w")


def test_a_comparison_of_two_unknown_facts_names_both():
    tree = R(DENY, "true", (R(ALLOW, "a >= b"),))
    assert _missing(tree, {"a": None, "b": None}) == ("a", "b")
    assert _missing(tree, {"a": 3, "b": None}) == ("b",)


def test_an_exception_that_gives_the_same_answer_as_its_parent_does_not_make_its_fact_matter():
    # deny by default; an exception 'x' denies too; only 'y' can move the answer to allow
    tree = R(DENY, "true", (R(DENY, "x"), R(ALLOW, "y")))
    # x first: if x is true the answer is deny whatever y is; if x is false, y decides -> both matter
    assert _missing(tree, {"x": None, "y": None}) == ("x", "y")
    # x known false: only y
    assert _missing(tree, {"x": False, "y": None}) == ("y",)


def test_never_empty_for_a_tautology_or_too_many_unknowns():
    taut = R(DENY, "true", (R(ALLOW, "x or not x"),))
    assert _missing(taut, {"x": None}) == ("x",)  # three-valued logic leaves it open; the list says why
    names = [f"f{i}" for i in range(MAX_UNKNOWN + 1)]
    wide = R(DENY, "true", (R(ALLOW, " and ".join(names)),))
    assert _missing(wide, {n: None for n in names}) == tuple(sorted(names))
