"""Commands that read a ledger refuse a store that holds none, instead of making an empty one."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from accord.cli import app
from accord.errors import NotFoundError
from accord.ledger import Ledger

READERS = [
    ["events"],
    ["audit", "verify"],
    ["audit", "prove", "1"],
    ["audit", "checkpoint"],
    ["explain", "1"],
    ["notices", "due"],
    ["report", "build", "--out", "{out}"],
    ["simulate", "--history", "{url}", "--pack", "texas", "--against", "nyc_doc"],
]


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_a_reading_command_on_a_missing_sqlite_file_says_so_and_creates_nothing(tmp_path: Path, args: list[str]) -> None:
    missing = tmp_path / "typo.db"
    url = f"sqlite:///{missing}"
    argv = [a.format(out=tmp_path / "report", url=url) for a in args]
    if "--history" not in argv:
        argv += ["--db", url]
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 2, res.output
    assert "no ledger at" in res.output and "accord init" in res.output and "Traceback" not in res.output
    assert not missing.exists()


def test_open_without_create_refuses_an_empty_database_on_both_stores(db_url: str) -> None:
    with pytest.raises(NotFoundError, match="no ledger at"):
        Ledger.open(db_url, create=False)
    with Ledger.open(db_url) as led:  # creating is the default
        led.append("record.requested", {"request_id": "R-1"})
    with Ledger.open(db_url, create=False) as led:
        assert led.size == 1


def test_a_sqlite_file_that_is_not_a_ledger_is_named(tmp_path: Path) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(NotFoundError, match="holds no Accord ledger"):
        Ledger.open(str(other), create=False)


def test_writing_commands_still_create_a_new_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert CliRunner().invoke(app, ["init", "--db", url]).exit_code == 0
    res = CliRunner().invoke(app, ["events", "--db", url])
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("create", [True, False])
def test_an_unreachable_store_is_named_with_the_drivers_reason(create: bool) -> None:
    from accord.ledger.store import StoreUnavailable

    with pytest.raises(StoreUnavailable, match=r"cannot open the ledger at postgresql\+psycopg://nobody@127.0.0.1:1/x: .*refused"):
        Ledger.open("postgresql+psycopg://nobody@127.0.0.1:1/x", create=create)
