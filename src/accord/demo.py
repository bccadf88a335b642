"""`accord demo`: a synthetic New York City year, decided, recorded, verified and reported.

Draws the NYC-calibrated year (the figures of the 2020 dispute), decides every detainer under the NYC DOC
pack (a ``decision.made`` event caused by its ``detainer.received``), runs the DMV record
requests through the records gateway, appends everything to a fresh embedded ledger,
verifies it, recomputes the history from the ledger alone, writes the HTML report and
prints the published figures beside the recomputed ones.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from accord.errors import AccordError, InputError, IntegrityError

PACK = "nyc_doc"
WHATIF_AGAINST = "texas"
DMV_PACK = "ny_dmv"


@dataclass
class DemoResult:
    out: Path
    db_url: str
    events: int
    checks: list[Any]
    report: Path | None
    whatif: Any | None
    timings: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    #: cells of the report's tables, and how many were hidden as primary and secondary
    suppression: dict[str, int] = field(default_factory=dict)


def _optional(module: str):
    """Import ``module``; None only when that package is genuinely absent (not when it is broken)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
            return None
        raise


def _fresh_store(out: Path, db: str | None) -> str:
    if db:
        return db
    for suffix in ("", "-wal", "-shm"):
        (out / f"accord.db{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{out / 'accord.db'}"


def run_demo(out: Path, *, seed: int = 0, db: str | None = None, scale: float = 1.0, console: Console | None = None) -> DemoResult:
    """Everything ``accord demo`` does, returning what it made (used by the command and the tests)."""
    from accord.domain import AgencyConfig
    from accord.law.case import DetainerCase
    from accord.law.engine import decide
    from accord.law.pack import load_pack
    from accord.ledger import Ledger, NewEvent
    from accord.synth.calibration import check, measure
    from accord.synth.events import append_in_order, detainer_events, record_events
    from accord.reports.ledger_rows import read_ledger
    from accord.synth.objects import agencies, cases
    from accord.synth.profile import NYC_2020
    from accord.synth.records import DMV, REQUESTERS, requests
    from accord.synth.settle import settle
    from accord.synth.whatif import compare
    from accord.synth.year import decide_frame, draw

    if scale <= 0:
        raise InputError("must be greater than 0", field="scale")
    console = console or Console(stderr=True)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    profile = NYC_2020.scaled(scale) if scale != 1.0 else NYC_2020
    t: dict[str, float] = {}
    skipped: list[str] = []
    suppression: dict[str, int] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        t[name] = now - clock
        clock = now

    cols = [TextColumn("{task.description:<34}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*cols, console=console, transient=False) as bar:
        # 1. the world, and the law's answer for every detainer
        world = draw(profile, seed, id_prefix="nyc-")
        objs = cases(world.cohort, profile, "nyc-")
        custodian, ice = agencies(profile)
        pack = load_pack(PACK)
        task = bar.add_task(f"deciding under {PACK}", total=len(objs))
        decisions = []
        for i, c in enumerate(objs):
            decisions.append(decide(DetainerCase(detainer=c.detainer, custody=c.custody, person=c.person, receiving_agency=custodian), pack).to_payload())
            if i % 500 == 499:
                bar.update(task, completed=i + 1)
        bar.update(task, completed=len(objs))
        settled = settle(decide_frame(world.facts, PACK), profile.period_end)
        _same_answers(decisions, settled)
        lap("decide")

        # 2. record requests through the gateway, if it is installed
        reqs, access = [], []
        gateway = _optional("accord.access.gateway")
        if gateway is None:
            skipped.append("record requests (accord.access not installed)")
        else:
            from accord.access.model import AccessRequest

            reqs = requests(world.records, "nyc-")
            by_id = {r.agency.agency_id: r.agency for r in REQUESTERS}
            task = bar.add_task(f"record requests under {DMV_PACK}", total=len(reqs))
            access = gateway.Gateway(DMV_PACK).check_many([AccessRequest(request=r, requester=by_id[r.requester_agency_id]) for r in reqs])
            bar.update(task, completed=len(reqs))
        lap("access")

        # 3. the ledger
        url = _fresh_store(out, db)
        planned = list(detainer_events(objs, decisions, settled, seed)) + list(record_events(reqs, access, profile.period_end, seed))
        with Ledger.open(url) as led:
            if led.size != 0:
                raise InputError("the demo needs an empty store; give a new --db or --out", field="db")
            registered = [custodian, ice, DMV] + [r.agency for r in REQUESTERS if r.agency.agency_id != ice.agency_id]
            led.append_many([*(NewEvent("agency.registered", a) for a in _unique(registered)),
                             # which law decides for whom: the service reads it (`accord serve` on this ledger)
                             NewEvent("agency.configured", AgencyConfig(agency_id=custodian.agency_id, law_pack=PACK,
                                                                        recorded_by="demo")),
                             NewEvent("agency.configured", AgencyConfig(agency_id=DMV.agency_id, access_pack=DMV_PACK,
                                                                        recorded_by="demo"))])
            task = bar.add_task("appending to the ledger", total=len(planned))
            append_in_order(led, planned, lambda n: bar.advance(task, n))
            lap("ledger")
            task = bar.add_task("verifying the ledger", total=None)
            report = led.verify()
            bar.update(task, total=1, completed=1)
            if not report.ok:
                raise IntegrityError(f"ledger verification failed at seq {report.first_bad_seq}: {report.reason}")
            checkpoint = led.checkpoint()
            events = led.size
            lap("verify")
            # 4. recompute from the ledger alone
            task = bar.add_task("exporting history from the ledger", total=events)
            rows = read_ledger(led, lambda n: bar.advance(task, n))
            tables, encounters = rows.tables, rows.encounters
            bar.update(task, completed=events)
        observed = measure(tables["detainers"], encounters, profile.period_end, profile.encounter_window_days)
        checks = check(observed) if scale == 1.0 else check(observed, _scaled_figures(scale))
        whatif = compare(tables["detainers"], PACK, WHATIF_AGAINST)
        lap("export")

        # 5. the report
        report_path = None
        build = _optional("accord.reports.build")
        if build is None:
            skipped.append("HTML report (accord.reports not installed)")
        else:
            from accord.reports.export import history_of_rows, ledger_stamp
            from accord.reports.sections import counts_section, drivers_section, published_vs_recomputed

            task = bar.add_task("writing the HTML report", total=None)
            # stamped with the signed checkpoint the export covers: `accord report verify` checks it
            history = history_of_rows(rows, ledger_stamp(checkpoint))
            sections = [
                *published_vs_recomputed(history, scale=scale, window_end=profile.period_end.isoformat(),
                                         window_days=profile.encounter_window_days),
                counts_section(whatif), drivers_section(whatif),
            ]
            result = build.build_report(history, out / "report", extra_sections=sections, title="Accord demo: a New York City year")
            report_path = result.html
            suppression = result.suppression
            bar.update(task, total=1, completed=1)
        lap("report")
    return DemoResult(out=out, db_url=url, events=events, checks=checks, report=report_path, whatif=whatif, timings=t, skipped=skipped,
                      suppression=suppression)


def _unique(agencies: list[Any]) -> list[Any]:
    seen: dict[str, Any] = {}
    for a in agencies:
        seen.setdefault(a.agency_id, a)
    return list(seen.values())


def _same_answers(decisions: list[dict[str, Any]], settled: pl.DataFrame) -> None:
    """The one-case and vectorised engines must agree on every detainer (else the ledger would lie)."""
    cols = [f"decision_{a}" for a in ("hold_past_release", "notify_release", "transfer_at_release")]
    for dec, row in zip(decisions, settled.select(["detainer_id", *cols]).iter_rows(named=True), strict=True):
        one = {d["action"]: d["outcome"] for d in dec["decisions"]}
        for c in cols:
            if one.get(c.removeprefix("decision_")) != row[c]:
                raise IntegrityError(f"decide and decide_batch disagree on {row['detainer_id']} ({c})")


def _scaled_figures(scale: float):
    from dataclasses import replace

    from accord.synth.calibration import NYC_2020_FIGURES

    return tuple(replace(f, published=max(1, round(f.published * scale))) for f in NYC_2020_FIGURES)


def print_result(res: DemoResult, console: Console) -> None:
    table = Table(title="The 2020 NYC figures (ICE letter of 13 Feb 2020): published vs recomputed from the ledger", title_justify="left")
    for col, just in (("Figure", "left"), ("Published", "right"), ("Accepted", "right"), ("Recomputed", "right"), ("", "center")):
        table.add_column(col, justify=just)
    for c in res.checks:
        table.add_row(c.figure.label, f"{c.figure.published:,}" if c.figure.kind != "at_least" else f">= {c.figure.published:,}",
                      c.figure.describe(), f"{c.value:,}", "[green]✓[/]" if c.ok else "[red]✗[/]")
    console.print(table)
    if res.whatif is not None:
        w = Table(title=f"What if the same year were decided under {res.whatif.pack_b}?", title_justify="left")
        for col in res.whatif.table.columns[1:]:
            w.add_column(col, justify="left" if col == "label" else "right")
        for row in res.whatif.table.iter_rows():
            w.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row[1:]))
        console.print(w)
    from sqlalchemy.engine import make_url

    shown = make_url(res.db_url).render_as_string(hide_password=True)
    console.print(f"Ledger: [bold]{shown}[/] ({res.events:,} events, verified)")
    if res.report:
        console.print(f"Report: [bold]{res.report}[/]")
        sup = res.suppression
        console.print(f"  {sup.get('primary', 0)} primary and {sup.get('secondary', 0)} secondary of {sup.get('cells', 0)} "
                      "table cells suppressed")
    for s in res.skipped:
        console.print(f"[yellow]skipped:[/] {s}")
    console.print(f"Done in {sum(res.timings.values()):.1f} s.")
