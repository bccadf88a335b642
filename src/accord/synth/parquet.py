"""Large synthetic histories written to Parquet chunk by chunk, in bounded memory.

Layout (what ``accord.reports.source.History.from_parquet`` opens)::

    OUT/detainers/part-00000.parquet ...        one row per detainer (schema + FACTS)
    OUT/notices/part-00000.parquet ...          notices the pack owes for those decisions
    OUT/record_requests/part-00000.parquet ...  one row per DMV record request
    OUT/encounters/part-00000.parquet ...       post-release ICE arrests

Each chunk is drawn from its own seed (``[seed, 2, k]``), decided with the vectorised
engine, settled, written and dropped before the next, so peak memory depends on the
chunk size, not on the number of rows. Every file is in the history layout
(``accord.reports.layout``: sorted by jurisdiction then time, row groups of 122,880 rows),
so reports filtered by jurisdiction skip row groups.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from accord.errors import InputError
from accord.law.facts import FACT_NAMES
from accord.law.pack import load_pack
from accord.reports.layout import write_history_parquet

from .draw import draw_cohort
from .flat import facts_frame
from .notices import notices_frame
from .profile import Profile
from .records import decide_frame as decide_requests
from .records import draw_requests, requests_frame
from .settle import history_columns, settle
from .year import decide_frame, encounters_of

CHUNK_STREAM = 2
DEFAULT_CHUNK = 1_000_000


@dataclass(frozen=True)
class WriteStats:
    rows: int
    notices: int
    record_requests: int
    encounters: int
    chunks: int
    bytes: int
    out: Path


def write_history(
    out: Path, profile: Profile, rows: int, *, seed: int = 0, pack_id: str = "nyc_doc", chunk_rows: int = DEFAULT_CHUNK,
    id_prefix: str = "", progress: bool = True, record_requests: bool = True, decide_records: bool | None = None,
) -> WriteStats:
    """Write ``rows`` synthetic detainers for ``profile``, decided under ``pack_id``.

    Record requests (in proportion to the profile) are decided by the records gateway when
    ``decide_records`` (default: when there are at most 200,000 of them; Cedar takes tens of
    microseconds a request); otherwise their ``outcome`` is left null (undecided).
    """
    if rows < 1:
        raise InputError("must be at least 1", field="rows")
    if chunk_rows < 1:
        raise InputError("must be at least 1", field="chunk_rows")
    out = Path(out)
    dirs = {t: out / t for t in ("detainers", "notices", "record_requests", "encounters")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("part-*.parquet"):
            old.unlink()
    p_hist = profile.detainers_with_history / profile.detainers
    req_ratio = profile.record_requests / profile.detainers if record_requests else 0.0
    chunks = -(-rows // chunk_rows)
    if decide_records is None:
        decide_records = rows * req_ratio <= 200_000
    n_req = n_enc = n_not = 0
    pack = load_pack(pack_id)
    columns = [TextColumn("[bold]synthesising"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"), TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, disable=not progress, transient=False) as bar:
        task = bar.add_task("rows", total=rows)
        for k in range(chunks):
            first = k * chunk_rows
            n = min(chunk_rows, rows - first)
            rng = np.random.default_rng([seed, CHUNK_STREAM, k])
            cohort = draw_cohort(rng, n, profile, first_index=first, p_history=p_hist)
            settled = settle(decide_frame(facts_frame(cohort, profile, id_prefix), pack_id), profile.period_end)
            del cohort
            name = f"part-{k:05d}.parquet"
            write_history_parquet(history_columns(settled, FACT_NAMES), dirs["detainers"] / name, dictionary=False)
            owed = notices_frame(settled, pack, profile.jurisdiction, profile.period_end, rng)
            n_not += owed.height
            write_history_parquet(owed, dirs["notices"] / name, dictionary=False)
            enc = encounters_of(settled)
            n_enc += enc.height
            write_history_parquet(enc, dirs["encounters"] / name, dictionary=False)
            del settled, enc
            m = int(round(n * req_ratio))
            if m:
                draws = draw_requests(rng, m, profile, first_index=n_req, people=rows)
                frame = decide_requests(draws, id_prefix) if decide_records else requests_frame(draws, id_prefix)
                write_history_parquet(frame, dirs["record_requests"] / name, dictionary=False)
                n_req += m
            gc.collect()
            bar.advance(task, n)
    size = sum(p.stat().st_size for d in dirs.values() for p in d.glob("*.parquet"))
    return WriteStats(rows=rows, notices=n_not, record_requests=n_req, encounters=n_enc, chunks=chunks, bytes=size, out=out)


def profile_for_rows(profile: Profile, rows: int) -> Profile:
    """``profile`` with its detainer volume set to ``rows`` (same shares)."""
    return profile.scaled(rows / profile.detainers) if rows != profile.detainers else replace(profile)
