"""The read model is read and written straight through the driver (``Projection.get``, ``flush``), past
SQLAlchemy's type processing: that is right only while every column is one SQLAlchemy hands through as is."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from accord.service import schema
from accord.service.projector import Projection
from accord.service.store import Store
from helpers.service_world import JAIL, agency_actor, booking, world


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()], ids=["sqlite", "postgresql"])
def test_no_read_model_column_needs_sqlalchemys_type_processing(dialect) -> None:
    for table in (*schema.PROJECTION_TABLES, schema.position):
        for column in table.columns:
            assert column.type._cached_bind_processor(dialect) is None, f"{table.name}.{column.name} binds"
            assert column.type._cached_result_processor(dialect, None) is None, f"{table.name}.{column.name} results"


def test_a_row_read_through_the_driver_is_the_row_sqlalchemy_reads(db_url: str) -> None:
    from accord.service.detainers import submit_custody

    with Store.open(db_url) as store:
        world(store)
        with store.transaction() as uow:
            submit_custody(uow, agency_actor(JAIL), *booking(1))
        with store.transaction() as uow:
            raw = Projection(uow.connection)
            for table, key in ((schema.bookings, "bk-1"), (schema.persons, "p-1")):
                expected = uow.connection.execute(table.select()).mappings().one()
                assert raw.get(table, key) == dict(expected)
            assert raw.get(schema.bookings, "bk-none") is None
            assert raw.detainers_of_booking("bk-1") == []
