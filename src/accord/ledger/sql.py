"""Raw SQL for the hot paths, written once with ``?`` and rendered in the driver's paramstyle."""

from __future__ import annotations

from functools import lru_cache

ROWS_PER_INSERT = 100
_EVENT_COLUMNS = "seq, stream, stream_seq, kind, caused_by, recorded_at, payload, leaf_hash, chain_hash"


class Statements:
    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.mark = "?" if dialect == "sqlite" else "%s"
        p = self.p
        self.insert_event = p(f"INSERT INTO ledger_events ({_EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        #: ``ROWS_PER_INSERT`` events in one statement: one VDBE run per block instead of per row
        #: (SQLite: ~20 % less insert CPU than per-row ``executemany``; 900 parameters, far below its limit)
        self.insert_event_block = p(f"INSERT INTO ledger_events ({_EVENT_COLUMNS}) VALUES "
                                    + ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?)"] * ROWS_PER_INSERT))
        #: the same for events without a cause (most of a bulk ingest): NULL written in, not bound (sqlite3
        #: sends a bound ``None`` through its adapter look-up, ~0.3 µs a row)
        uncaused = "(?, ?, ?, ?, NULL, ?, ?, ?, ?)"
        self.insert_event_uncaused = p(f"INSERT INTO ledger_events ({_EVENT_COLUMNS}) VALUES {uncaused}")
        self.insert_event_block_uncaused = p(f"INSERT INTO ledger_events ({_EVENT_COLUMNS}) VALUES "
                                             + ", ".join([uncaused] * ROWS_PER_INSERT))
        #: (SQLite) the same for events of one kind: the kind and the stamp bound once a statement as ?1 and
        #: ?2, then each row's seq, stream, stream_seq, payload and hashes (six values a row, not eight)
        def shared(rows: int) -> str:
            return f"INSERT INTO ledger_events ({_EVENT_COLUMNS}) VALUES " + ", ".join(
                "(?{}, ?{}, ?{}, ?1, NULL, ?2, ?{}, ?{}, ?{})".format(*range(3 + 6 * i, 9 + 6 * i)) for i in range(rows))
        self.insert_event_shared, self.insert_event_block_shared = shared(1), shared(ROWS_PER_INSERT)
        self.insert_node = p("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)")
        lock = "" if dialect == "sqlite" else " FOR UPDATE"
        self.lock_head = f"SELECT size, chain_hash, edge, ledger_id FROM ledger_head WHERE id = 1{lock}"
        self.read_head = "SELECT size, chain_hash, edge, ledger_id FROM ledger_head WHERE id = 1"
        self.update_head = p("UPDATE ledger_head SET size = ?, chain_hash = ?, edge = ?, updated_at = ? WHERE id = 1")
        self.select_events = f"SELECT {_EVENT_COLUMNS} FROM ledger_events"
        self.leaf_range = p("SELECT seq, leaf_hash FROM ledger_events WHERE seq >= ? AND seq <= ? ORDER BY seq")
        self.node_range = p("SELECT idx, hash FROM ledger_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx")

    def p(self, sql: str) -> str:
        return sql if self.mark == "?" else sql.replace("?", self.mark)

    @lru_cache(maxsize=64)  # noqa: B019 - a handful of sizes, lives as long as the ledger
    def stream_heads(self, n: int) -> str:
        """Last stream_seq of each of ``n`` streams (absent streams give no row / NULL)."""
        if self.dialect == "postgresql":
            # One array parameter; a correlated MAX per stream is an index-only backward scan.
            # (``stream IN (...)`` is planned as a sequential scan while statistics still
            # describe a small table, which made big ingests quadratic.)
            return ("SELECT s, (SELECT MAX(stream_seq) FROM ledger_events WHERE stream = s) "
                    "FROM unnest(%s::text[]) AS t(s)")
        marks = ", ".join([self.mark] * n)
        return f"SELECT stream, MAX(stream_seq) FROM ledger_events WHERE stream IN ({marks}) GROUP BY stream"

    def events_query(self, after: int, kind: str | None = None, stream: str | None = None,
                     until: int | None = None, limit: int | None = None) -> tuple[str, list[object]]:
        """The statement and parameters of :meth:`events_where` for these filters (``None`` = no filter)."""
        params: list[object] = [after]
        params += [value for value in (None if kind is None else str(kind), stream, until, limit) if value is not None]
        return self.events_where(kind is not None, stream is not None, until is not None, limit is not None), params

    def events_where(self, kind: bool, stream: bool, until: bool, limit: bool) -> str:
        sql = self.select_events + " WHERE seq > ?"
        if kind:
            # With a stream given, its (stream, stream_seq) index finds a handful of rows; SQLite (no
            # statistics) would otherwise pick the (kind, seq) index and walk every event of the kind:
            # one submission's look-up of its detainer cost time in proportion to the ledger. A unary
            # ``+`` keeps SQLite off that index (PostgreSQL plans with statistics and has no ``+text``).
            sql += " AND +kind = ?" if stream and self.dialect == "sqlite" else " AND kind = ?"
        if stream:
            sql += " AND stream = ?"
        if until:
            sql += " AND seq <= ?"
        # Within a stream stream_seq grows with seq, so this is the same order, and it
        # lets the (stream, stream_seq) index serve the query on both databases.
        sql += " ORDER BY stream_seq" if stream else " ORDER BY seq"
        if limit:
            sql += " LIMIT ?"
        return self.p(sql)
