"""Fixture releases (synthetic, built here) for the ddp tests; one set per layout for the whole module."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.ddp_release import Release, write_release


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Release]:
    folder = tmp_path_factory.mktemp("ddp-releases")
    return {layout: write_release(folder / layout, layout) for layout in ("latest", "oct_2025")}


@pytest.fixture
def release_copy(releases: dict[str, Release], tmp_path: Path):
    """A fresh copy of one fixture file (so rejects files and re-imports stay in this test's folder)."""

    def copy(layout: str, fmt: str) -> Path:
        source: Path = getattr(releases[layout], fmt)
        target = tmp_path / source.name
        target.write_bytes(source.read_bytes())
        return target

    return copy
