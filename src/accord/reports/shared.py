"""Every report table on DuckDB from a few shared aggregates: each grouping of the detainers is counted once.

The per-table queries (``accord.reports.queries``, which PySpark runs) group the detainers once per
table: twelve passes over the history. Measured on 10 M detainers, what costs is not reading the
Parquet (dictionary-encoded; reading every column a report needs takes about 1 CPU-s) but hashing
each row into each grouping. So here each distinct grouping is computed once and every table that
can be derived from it is derived from the small result, in Polars:

* ``main``: by local day, by issuing office, by (law pack, rules that fired) and by offence list,
  each with disposition and held — the main table, the office, reason and offence tables. These can
  be one pass with ``GROUPING SETS`` (``MAIN_GROUPING_SETS``), but DuckDB hashes every row into every
  set's table all the same: measured single-threaded it cost as much as four passes on 10 M
  detainers (1.28 against 1.25 CPU-s) and more on 30 M (6.2 against 5.2), and one long query
  balances worse over two workers than four short ones, so by default each set is its own query;
* ``nyc``: NYC detainers by (local day, receiving agency, form, issuing component, disposition)
  gives the §14-154 detainers received and the detainer rows of the §10-178 log;
* ``people``: NYC detainers held, transferred or declined, one row per (year, agency, person) with
  the three flags as one ``bit_or``, counted to people per (year, agency) inside DuckDB (the only
  large grouping; it spills to disk past the connection's memory limit instead of growing);
* ``ca``: California detainers by (local day, agency, disposition, interview and information
  sharing allowed) gives the TRUTH Act table; ``ca_lists``: California transfers by (local day,
  offence list) gives §7284.6(c)(2);
* the tables of the small notices and record-request tables, the hold lengths (a filtered scan of
  the few held rows) and the record rows of the §10-178 log run as their Ibis queries.

Local days come from the UTC offset stored beside ``received_at`` (``calendar.offset_column``),
by the very expression the per-table queries compile to (``LOCAL_DAY``); a history without the stored offsets or the list keys
(``schema.LIST_KEYS``) is given them first when it is in memory (``layout.with_local_offsets``,
``layout.with_list_keys``, the writers' own functions), and is counted by the per-table queries when
it is Parquet in an older layout. Every table is the same, cell for cell, as the per-table query's
(``tests/reports/test_reports_shared.py`` checks it on generated histories).

Measured against the per-table queries in the same run (``bench/report.py``, 10 M detainers, a
2-core machine under a load average of 8 to 20): 5.4 against 5.9 CPU-s, so about 1.1x less work; the
per-row hashing that both do dominates. Peak memory of the queries alone: 0.42 against 0.50 GiB
at 10 M, 0.46 against 0.52 GiB at 30 M.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from . import queries as q
from .calendar import US_PER_DAY, offset_column
from .schema import LIST_KEYS, LIST_SEPARATOR, TABLES

#: the detainers table as the shared queries read it (``open_tables``)
DETAINERS = "history_detainers"
_OFFSET = offset_column("received_at")
#: local day number: floor((UTC microseconds + offset) / one day), written as the per-table queries' Ibis
#: compiles it (a double division: exact for instants within 285 years of 1970, where the microseconds
#: are below 2**53, and cheaper than DuckDB's 64-bit integer ``//`` with a sign correction, measured)
LOCAL_DAY = f"CAST(FLOOR((epoch_us(received_at) + CAST({_OFFSET} AS BIGINT) * 60000000) / {US_PER_DAY}) AS BIGINT)"


def _nyc() -> str:
    return f"starts_with(jurisdiction, '{q.NYC}')"


def _ca() -> str:
    return f"starts_with(jurisdiction, '{q.CALIFORNIA}')"


#: grouping sets of the ``main`` pass: name -> keys (each with disposition and the held flag)
MAIN_SETS: dict[str, tuple[str, ...]] = {
    "period": ("_day", "disposition", "_held"),
    "office": ("issuing_office", "disposition", "_held"),
    "reason": ("pack_id", LIST_KEYS["decision_rules"], "disposition", "_held"),
    "offence": (LIST_KEYS["offense_categories"], "disposition", "_held"),
}
#: one ``GROUPING SETS`` pass for the main sets (True) or one query per set (False, measured cheaper; see above)
MAIN_GROUPING_SETS = False
#: which main grouping set each table is derived from
MAIN_TABLES = {"detainers_by_period": "period", "detainers_by_office": "office", "detainers_by_reason": "reason",
               "detainers_by_offence": "offence"}
#: the shared aggregates (besides ``main``) each table needs; tables not named here run their Ibis query
NEEDS: dict[str, tuple[str, ...]] = {
    "nypd_14_154": ("nyc", "people"),
    "nyc_10_178": ("nyc", "nyc_records"),
    "truth_act_forum": ("ca",),
    "ca_7284_6_c2": ("ca_lists",),
}


def main_sql(sets: Sequence[str]) -> str:
    """One pass over the detainers computing the counts of every grouping set in ``sets``."""
    keys = list(dict.fromkeys(k for s in sets for k in MAIN_SETS[s]))
    columns = {"_day": f"{LOCAL_DAY}", "_held": "hold_hours IS NOT NULL"}
    select = ", ".join(f"{columns.get(k, k)} AS {k}" for k in keys)
    grouping = ", ".join("(" + ", ".join(MAIN_SETS[s]) + ")" for s in sets)
    return (f"SELECT grouping_id({', '.join(keys)}) AS _set, {', '.join(keys)}, count(*) AS n "
            f"FROM (SELECT {select} FROM {DETAINERS}) GROUP BY GROUPING SETS ({grouping})")


def set_id(sets: Sequence[str], name: str) -> int:
    """``grouping_id`` of grouping set ``name``: a bit per key of the query (first key highest), set where the
    set does not group by it."""
    keys = list(dict.fromkeys(k for s in sets for k in MAIN_SETS[s]))
    return sum(1 << (len(keys) - 1 - i) for i, k in enumerate(keys) if k not in MAIN_SETS[name])


NYC_SQL = (f"SELECT {LOCAL_DAY} AS _day, receiving_agency_id, form, issuing_component, disposition, count(*) AS n "
           f"FROM {DETAINERS} WHERE {_nyc()} GROUP BY ALL")
CA_SQL = (f"SELECT {LOCAL_DAY} AS _day, receiving_agency_id, disposition, "
          "decision_allow_interview IN ('allow', 'require') AS _iv, decision_share_info IN ('allow', 'require') AS _sh, "
          f"count(*) AS n FROM {DETAINERS} WHERE {_ca()} GROUP BY ALL")
CA_LISTS_SQL = (f"SELECT {LOCAL_DAY} AS _day, offense_categories, count(*) AS n FROM {DETAINERS} "
                f"WHERE {_ca()} AND disposition = 'transferred' GROUP BY ALL")
#: a person counts once a year per agency under each flag any of their detainers has (bit 1 held,
#: 2 transferred, 4 declined); only the detainers that set a flag are grouped
PEOPLE_SQL = (
    "SELECT _year, receiving_agency_id, count(*) FILTER (WHERE f & 1 <> 0) AS individuals_held, "
    "count(*) FILTER (WHERE f & 2 <> 0) AS individuals_transferred, count(*) FILTER (WHERE f & 4 <> 0) AS individuals_not_honored "
    f"FROM (SELECT year(DATE '1970-01-01' + ({LOCAL_DAY})::INTEGER) AS _year, receiving_agency_id, person_id, "
    "bit_or((CASE WHEN hold_hours IS NOT NULL THEN 1 ELSE 0 END) | (CASE WHEN disposition = 'transferred' THEN 2 ELSE 0 END) "
    "| (CASE WHEN disposition = 'declined' THEN 4 ELSE 0 END))::UTINYINT AS f "
    f"FROM {DETAINERS} WHERE {_nyc()} AND (hold_hours IS NOT NULL OR disposition IN ('transferred', 'declined')) "
    "GROUP BY ALL) GROUP BY ALL"
)


def can_share(history: Any) -> bool:
    """The shared queries need the stored offsets and list keys; a history in memory is given them, a
    Parquet history in an older layout is counted table by table."""
    if "detainers" not in history.parquet:
        return True
    import pyarrow.parquet as pq

    names = set(pq.read_schema(history.parquet["detainers"][0]).names)
    return {_OFFSET, *LIST_KEYS.values()} <= names


def open_tables(history: Any, con: Any) -> dict[str, Any]:
    """The history's tables on ``con`` under fixed names (``history_<table>``) the SQL above reads.

    Parquet is read in place (views); frames are registered as Arrow, the detainers with their local
    offsets and list keys added (refusing an item holding the separator, as the writers do)."""
    if history.parquet:
        return history.open(con)
    from .layout import with_list_keys, with_local_offsets

    out = {}
    for t in TABLES:
        frame = history.frames.get(t)
        if frame is None:
            frame = pl.DataFrame(schema=TABLES[t])
        if t == "detainers":
            frame = with_local_offsets(with_list_keys(frame))
        name = f"history_{t}"
        con.con.register(name, frame.to_arrow())
        out[t] = con.table(name)
    return out


def _sql(con: Any, sql: str) -> pl.DataFrame:
    return pl.from_arrow(con.con.sql(sql).to_arrow_table())  # type: ignore[return-value]


def compute(history: Any, specs: Sequence[Any], params: Any, connect: Callable[[], Any], *, workers: int = 2,
            jurisdictions: Callable[[Any, dict[str, Any]], list[str]] | None = None,
            ) -> tuple[dict[str, pl.DataFrame], dict[str, float], list[str] | None]:
    """Raw counts of every table in ``specs`` (as its per-table query returns them), seconds per query, and the
    jurisdictions the history holds if ``jurisdictions`` (a query on the opened tables) is given."""
    names = [s.name for s in specs]
    main = [MAIN_TABLES[n] for n in names if n in MAIN_TABLES]
    sets = list(dict.fromkeys(s for s in MAIN_SETS if s in main))
    needed = list(dict.fromkeys(a for n in names for a in NEEDS.get(n, ())))
    tasks: dict[str, Callable[[Any, dict[str, Any]], pl.DataFrame]] = {}
    if "people" in needed:  # the largest grouping first, so the small ones fill the other worker's gaps
        tasks["people"] = lambda con, t: _sql(con, PEOPLE_SQL)
    if sets and MAIN_GROUPING_SETS:
        tasks["main"] = lambda con, t: _sql(con, main_sql(sets))
    elif sets:
        for s in sets:
            tasks[f"main {s}"] = lambda con, t, one=s: _sql(con, main_sql([one])).with_columns(
                _set=pl.lit(set_id(sets, one), dtype=pl.Int64))
    sql_of = {"nyc": NYC_SQL, "ca": CA_SQL, "ca_lists": CA_LISTS_SQL}
    for a in needed:
        if a in sql_of:
            tasks[a] = lambda con, t, sql=sql_of[a]: _sql(con, sql)
    if "nyc_records" in needed:
        tasks["nyc_records"] = lambda con, t: con.to_polars(q.nyc_log_records(t, params))
    for s in specs:  # the tables of the small tables, and the few held rows: their own queries
        if s.name not in MAIN_TABLES and s.name not in NEEDS:
            tasks[s.name] = lambda con, t, spec=s: con.to_polars(spec.query(t, params))
    if jurisdictions is not None:
        tasks["jurisdictions"] = lambda con, t: pl.DataFrame({"jurisdiction": jurisdictions(con, t)})

    local = threading.local()

    def run(name: str) -> tuple[pl.DataFrame, float]:
        if not hasattr(local, "con"):
            local.con = connect()
            local.tables = open_tables(history, local.con)
        started = time.perf_counter()
        return tasks[name](local.con, local.tables), time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(tasks)))) as pool:
        futures = {name: pool.submit(run, name) for name in tasks}
        try:
            done = {name: f.result() for name, f in futures.items()}
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    agg = {name: frame for name, (frame, _) in done.items()}
    seconds = {name: s for name, (_, s) in done.items()}
    found = agg.pop("jurisdictions")["jurisdiction"].to_list() if jurisdictions is not None else None
    if sets:
        whole = agg.pop("main") if MAIN_GROUPING_SETS else pl.concat(
            [agg.pop(f"main {s}").select("_set", *MAIN_SETS[s], "n") for s in sets], how="diagonal_relaxed")
        for s in sets:
            agg[s] = whole.filter(pl.col("_set") == set_id(sets, s)).select(*MAIN_SETS[s], "n")
    out = {}
    for n in names:
        if n in MAIN_TABLES or n in NEEDS:
            out[n] = DERIVE[n](agg, params)
        else:
            out[n] = agg[n]
    return out, seconds, found


# ---- deriving each table from the aggregates (small frames), as its per-table query counts it ----------------

def _label(day: str, period: str, name: str) -> pl.Expr:
    """``period_columns`` + ``label_period`` in Polars: ``2020``, ``2020-Q1`` or ``2020-01``; null for a null day."""
    date = pl.col(day).cast(pl.Int32).cast(pl.Date)
    year = date.dt.year().cast(pl.String)
    if period == "year":
        label = year
    elif period == "quarter":
        label = year + "-Q" + date.dt.quarter().cast(pl.String)
    else:
        label = year + "-" + date.dt.month().cast(pl.String).str.zfill(2)
    return label.alias(name)


def _sum_where(cond: pl.Expr | None = None) -> pl.Expr:
    """Sum of ``n`` over the rows where ``cond`` holds (a null condition does not); 0 when none does."""
    if cond is None:
        return pl.col("n").sum()
    return pl.when(cond).then(pl.col("n")).otherwise(0).sum()


def _pivot(g: pl.DataFrame, keys: list[str], cols: tuple[str, ...]) -> pl.DataFrame:
    """``queries.pivot``: counts ``n`` by (keys, disposition, _held) to one column per disposition."""
    def measure(c: str) -> pl.Expr:
        if c in ("received", "detainers"):
            return _sum_where()
        if c == "held":
            return _sum_where(pl.col("_held"))
        return _sum_where(pl.col("disposition") == c)

    return g.group_by(keys).agg(**{c: measure(c) for c in cols})


def _items(g: pl.DataFrame, key: str, out: str) -> pl.DataFrame:
    """One row per distinct item of each grouped list key (a null key, an empty or null list, gives none)."""
    g = g.filter(pl.col(key).is_not_null())
    return g.with_columns(pl.col(key).str.split(LIST_SEPARATOR).list.unique().alias(out)).explode(out).drop(key)


def _period(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    g = agg["period"].with_columns(_label("_day", p.period, "period"))
    return _pivot(g, ["period"], q.BY_DISPOSITION)


def _office(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    return _pivot(agg["office"], ["issuing_office"], q.BY_DISPOSITION)


def _reason(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    return _pivot(_items(agg["reason"], LIST_KEYS["decision_rules"], "rule_id"), ["pack_id", "rule_id"], q.OUTCOMES)


def _offence(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    return _pivot(_items(agg["offence"], LIST_KEYS["offense_categories"], "offence_category"), ["offence_category"], q.OUTCOMES)


_COUNTS = ("individuals_held", "individuals_transferred", "individuals_not_honored")


def _nypd(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    received = (agg["nyc"].with_columns(_label("_day", "year", "year"))
                .group_by(["year", "receiving_agency_id"]).agg(detainers_received=_sum_where()))
    people = agg["people"].with_columns(pl.col("_year").cast(pl.String).alias("year")).drop("_year")
    joined = received.join(people, on=["year", "receiving_agency_id"], how="left")  # nulls match nothing, as in SQL
    return joined.select("year", "receiving_agency_id", "detainers_received",
                         *(pl.col(c).cast(pl.Int64).fill_null(0) for c in _COUNTS))


def _nyc_log(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    g = agg["nyc"].with_columns(_label("_day", "quarter", "quarter"))
    d = pl.col("disposition")
    det = g.group_by(["quarter", "form", "issuing_component"]).agg(
        requests=_sum_where(), complied=_sum_where(d.is_in(q.HONORED)), declined=_sum_where(d == "declined"),
        **{c: _sum_where(d == c) for c in q.LOG_OTHER},
    ).select(
        "quarter", (pl.lit("detainer ") + pl.col("form")).alias("request"), pl.col("issuing_component").alias("requester"),
        *(pl.col(c) for c in q.LOG_COUNTS if c != "no_decision"), pl.lit(0, dtype=pl.Int64).alias("no_decision"),
    ).select(*q._LOG, *q.LOG_COUNTS)
    rec = agg["nyc_records"].select(*q._LOG, *(pl.col(c).cast(pl.Int64) for c in q.LOG_COUNTS))
    both = pl.concat([det.cast({c: pl.Int64 for c in q.LOG_COUNTS}), rec])
    return both.group_by(q._LOG).agg(*(pl.col(c).sum() for c in q.LOG_COUNTS))


def _truth(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    g = agg["ca"].with_columns(_label("_day", "year", "year"))
    d = pl.col("disposition")
    return g.group_by(["year", "receiving_agency_id"]).agg(
        requests_received=_sum_where(), release_notified=_sum_where(d.is_in(q.HONORED)),
        transferred=_sum_where(d == "transferred"), interview_allowed=_sum_where(pl.col("_iv")),
        info_shared=_sum_where(pl.col("_sh")),
    )


def _ca_transfers(agg: dict[str, pl.DataFrame], p: Any) -> pl.DataFrame:
    g = agg["ca_lists"].with_columns(_label("_day", "year", "year"))
    every = g.group_by("year").agg(pl.lit("(all transfers)").alias("offence"), transfers=_sum_where())
    # list_distinct in SQL drops null items; an empty or null list names no offence
    items = g.with_columns(pl.col("offense_categories").list.drop_nulls().list.unique().alias("offence")).explode("offence")
    by_offence = items.filter(pl.col("offence").is_not_null()).group_by(["year", "offence"]).agg(transfers=_sum_where())
    return pl.concat([by_offence, every.select("year", "offence", "transfers")])


DERIVE: dict[str, Callable[[dict[str, pl.DataFrame], Any], pl.DataFrame]] = {
    "detainers_by_period": _period, "detainers_by_office": _office, "detainers_by_reason": _reason,
    "detainers_by_offence": _offence, "nypd_14_154": _nypd, "nyc_10_178": _nyc_log, "truth_act_forum": _truth,
    "ca_7284_6_c2": _ca_transfers,
}
