"""The rejects file: one CSV line per row that could not be mapped (sheet, row, column, reason).

It is made in the target folder *before* the ledger transaction (so an unwritable path fails
before anything is appended) and moved into place only after the commit, so a file that exists
always describes an import that happened. The same rows are in the ledger as
``import.ddp.rejected`` events, so a re-import of the same file can write it again.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from accord.errors import InputError

COLUMNS = ("sheet", "row", "field", "reason")


class RejectsFile:
    """``with RejectsFile(path) as rf: rf.write(rows); ...; rf.commit()`` — nothing appears unless committed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        except OSError as exc:
            raise InputError(f"cannot write the rejects file there: {exc.strerror}", source=str(path), field="--rejects") from None
        self.tmp = Path(tmp)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._fh)
        self._csv.writerow(COLUMNS)
        self.count = 0

    def write(self, rows: Iterable[dict]) -> None:
        for r in rows:
            self._csv.writerow([r["sheet"], r["row"], r.get("field") or "", r["reason"]])
            self.count += 1

    def commit(self) -> None:
        self._fh.close()
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> "RejectsFile":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.tmp.exists():
            self.discard()


def read_rejects(path: Path) -> list[dict[str, str]]:
    """The rows of a rejects file, as dicts (for tests and for people checking one)."""
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
