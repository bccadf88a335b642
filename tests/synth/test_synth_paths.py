"""The flat rows and the domain objects describe the same world; generation is seeded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from accord.law.case import DetainerCase
from accord.law.clock import hold_until
from accord.law.facts import FACT_NAMES, facts_from_case
from accord.law.pack import load_pack
from accord.law.clock_column import hold_deadlines
from accord.synth.objects import agencies, cases
from accord.synth.profile import NYC_2020
from accord.synth.year import decide_history, draw

SMALL = NYC_2020.scaled(0.05)


def test_facts_from_objects_equal_the_flat_rows():
    world = draw(SMALL, seed=7, id_prefix="t-")
    custodian, _ = agencies(SMALL)
    objs = cases(world.cohort, SMALL, "t-")
    assert len(objs) == world.facts.height
    for i, case in enumerate(objs):
        dc = DetainerCase(detainer=case.detainer, custody=case.custody, person=case.person, receiving_agency=custodian)
        from_objects = facts_from_case(dc, case.detainer.received_at.date())
        row = world.facts.row(i, named=True)
        assert {k: from_objects[k] for k in FACT_NAMES} == {k: row[k] for k in FACT_NAMES}, case.detainer.request_id
        assert row["detainer_id"] == case.detainer.request_id


def test_same_seed_same_history_other_seed_other_history():
    a, _ = decide_history(draw(SMALL, seed=3), "nyc_doc")
    b, _ = decide_history(draw(SMALL, seed=3), "nyc_doc")
    c, _ = decide_history(draw(SMALL, seed=4), "nyc_doc")
    assert_frame_equal(a, b)
    assert not a.select(FACT_NAMES).equals(c.select(FACT_NAMES))


def test_vectorised_hold_deadlines_equal_the_law_clock():
    pack = load_pack("nyc_doc")
    rng = np.random.default_rng(0)
    base = datetime(2019, 12, 20, tzinfo=UTC).timestamp()
    starts = [datetime.fromtimestamp(base + float(x), tz=UTC) for x in rng.uniform(0, 40 * 86400, size=60)]
    eligible = pl.Series(starts, dtype=pl.Datetime("us", "UTC"))
    law_dates = eligible.dt.convert_time_zone(pack.timezone).dt.date()
    for mode in ("clock_hours", "excluding_weekends_holidays"):
        mpack = replace(pack, parameters={**pack.parameters, "hold_clock_mode": replace(pack.parameters["hold_clock_mode"], values=((pack.effective_from, mode),))})
        got = hold_deadlines(eligible, law_dates, mpack).to_list()
        want = [hold_until(s, mpack, d).astimezone(UTC) for s, d in zip(starts, law_dates.to_list(), strict=True)]
        assert got == want, mode


def test_notice_rows_match_the_notices_decide_attaches():
    from accord.law import decide
    from accord.synth.notices import notices_frame
    from accord.synth.settle import settle
    from accord.synth.year import decide_frame

    world = draw(SMALL, seed=11, id_prefix="n-")
    for pack_id in ("texas", "nyc_doc", "california"):
        pack = load_pack(pack_id)
        settled = settle(decide_frame(world.facts, pack_id), SMALL.period_end)
        rows = notices_frame(settled, pack, SMALL.jurisdiction, SMALL.period_end, np.random.default_rng(0))
        got = {(r["notice_id"], r["due_by"]) for r in rows.iter_rows(named=True)}
        want = set()
        for r in world.facts.iter_rows(named=True):
            for n in decide({k: r[k] for k in (*FACT_NAMES, "detainer_id", "person_id")}, pack).notices:
                want.add((n.notice_id, n.due_by.astimezone(UTC)))
        assert got == want, pack_id
