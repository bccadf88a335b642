"""Open the HTML report in headless Chromium, offline, and check every chart rendered with no console message."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from accord.reports.build import build_report
from accord.reports.sample import sample_history
from accord.reports.source import History

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed")]

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / "chrome-profile"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    return build_report(History.from_frames(sample_history(2000, seed=4)), out).html


def test_charts_render_offline_with_no_console_errors(report: Path, tmp_path: Path):
    html = report.read_text(encoding="utf-8")
    # self-contained: nothing is loaded from anywhere else
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+href=", html)
    charts = len(re.findall(r'<div class="chart" id="chart-', html))
    assert charts >= 8

    run = _chromium(tmp_path, "--virtual-time-budget=20000", "--dump-dom", report.as_uri())
    dom = run.stdout
    assert run.returncode == 0, run.stderr[-2000:]
    body = re.search(r"<body[^>]*data-charts-rendered[^>]*>", dom)
    assert body, "the page's script did not finish"
    assert f'data-charts-rendered="{charts}"' in body.group(0)
    assert 'data-chart-errors="0"' in body.group(0)
    rendered = re.findall(r'<div class="chart[^"]*" id="chart-[^"]+"[^>]*data-rendered="1"[^>]*>\s*<svg', dom)
    assert len(rendered) == charts, "every chart container holds an SVG"
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console


def test_screenshot_of_the_report(report: Path, tmp_path: Path):
    shot = tmp_path / "report.png"
    run = _chromium(tmp_path, "--window-size=1280,2000", "--virtual-time-budget=20000", f"--screenshot={shot}", report.as_uri())
    assert run.returncode == 0, run.stderr[-2000:]
    assert shot.stat().st_size > 50_000  # a blank page is a few kB
