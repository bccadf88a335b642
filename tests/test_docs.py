"""Docs stay honest: every command README names exists, and every command that exists is in README."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from accord.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _command_paths() -> set[tuple[str, ...]]:
    """Every (group, command) or (command,) registered on the accord CLI."""
    click_app = typer.main.get_command(app)
    paths: set[tuple[str, ...]] = set()
    for name, cmd in click_app.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            paths.update((name, s) for s in sub)
        else:
            paths.add((name,))
    return paths


def _mentioned() -> set[tuple[str, ...]]:
    known = _command_paths()
    groups = {p[0] for p in known if len(p) == 2}
    found: set[tuple[str, ...]] = set()
    for words in re.findall(r"accord((?: [a-z][a-z-]*)+)", README):
        parts = words.split()
        if parts and parts[0] in groups and len(parts) > 1:
            found.add((parts[0], parts[1]))
        elif parts:
            found.add((parts[0],))
    return found


def test_readme_starts_with_the_demo_and_the_test_command():
    blocks = re.findall(r"```sh\n(.*?)\n```", README, flags=re.S)
    assert blocks[0].strip().endswith("accord demo")
    assert "pytest" in blocks[1]
    assert README.index(blocks[0]) < README.index("##")


def test_every_command_readme_names_exists():
    runner = CliRunner()
    missing = []
    for path in sorted(_mentioned()):
        result = runner.invoke(app, [*path, "--help"])
        if result.exit_code != 0:
            missing.append(" ".join(path))
    assert not missing, f"README names commands that do not exist: {missing}"


def test_every_command_is_documented_in_readme():
    undocumented = [" ".join(p) for p in _command_paths() - _mentioned() if p != ("version",)]
    assert not undocumented, f"commands missing from README: {sorted(undocumented)}"
