"""Every scenario file decides as its author, reading the statute, expected."""

from pathlib import Path

import pytest

from accord.access.packs import list_packs
from accord.access.scenarios import load_scenario, run_scenario, scenario_files

ROOT = Path(__file__).parent / "scenarios"
FILES = scenario_files(ROOT)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_scenario(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.pack == path.parent.name, "a scenario lives in its pack's folder"
    _, problems = run_scenario(scenario)
    assert not problems, f"{path.name}: {scenario.description}\n" + "\n".join(problems)


@pytest.mark.parametrize("pack", list_packs())
def test_every_pack_has_at_least_15_scenarios(pack: str) -> None:
    assert len([p for p in FILES if p.parent.name == pack]) >= 15
