"""The CLI starts in a blink: importing it (and printing help) loads none of the heavy libraries.

A structural guard, not a timing test: each of these costs tens to hundreds of milliseconds to
import, and a command that needs one imports it when it runs (``bench/cli_start.py`` times it).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

#: pydantic is not here: Typer itself (0.29) parses parameters with it when a command runs.
HEAVY = ("polars", "duckdb", "scipy", "sqlalchemy", "cedarpy", "ibis", "numpy", "pyarrow", "orjson", "alembic")

PROBE = """
import atexit, sys
HEAVY = {heavy!r}
atexit.register(lambda: print("LOADED:" + ",".join(m for m in HEAVY if m in sys.modules), file=sys.stderr))
from accord.cli import main
sys.argv = ["accord", *{args!r}]
main()
"""


@pytest.mark.parametrize("args", [[], ["--help"], ["packs", "--help"], ["access", "check", "--help"],
                                  ["report", "build", "--help"], ["import", "ddp", "--help"], ["version"]])
def test_help_and_light_commands_load_no_heavy_library(args: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args)], capture_output=True, text=True,
                          timeout=60)
    loaded = [line for line in proc.stderr.splitlines() if line.startswith("LOADED:")]
    assert loaded, proc.stderr
    assert loaded[-1] == "LOADED:", f"accord {' '.join(args)} imported {loaded[-1].removeprefix('LOADED:')}"
