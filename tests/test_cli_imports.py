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


CASE = "src/accord/law/examples/nyc_case.json"


@pytest.mark.parametrize("args", [["packs", "list"], ["packs", "show", "nyc_doc"], ["decide", "--pack", "nyc_doc", CASE],
                                  ["explain", "--pack", "nyc_doc", CASE]])
def test_deciding_one_case_and_listing_packs_load_no_heavy_library(args: list[str]) -> None:
    # One case is decided by the scalar engine: no data frames, no database, no Cedar.
    root = __import__("pathlib").Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY, args=args)], capture_output=True, text=True,
                          timeout=60, cwd=root)
    loaded = [line for line in proc.stderr.splitlines() if line.startswith("LOADED:")]
    assert loaded, proc.stderr
    assert loaded[-1] == "LOADED:", f"accord {' '.join(args)} imported {loaded[-1].removeprefix('LOADED:')}"


def test_a_pack_loads_without_the_domain_models() -> None:
    # Listing packs reads YAML and the enums; the pydantic models of cases are built only to decide one.
    probe = ("import sys; from accord.law.pack import load_pack; load_pack('nyc_doc'); "
             "print(','.join(m for m in ('accord.law.case', 'accord.domain.agency', 'polars') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
