"""One error type per kind of failure; each message names the field and the problem."""

from __future__ import annotations


class AccordError(Exception):
    """Base of every error Accord reports to a person. ``str(err)`` is the message to show."""

    exit_code = 2


class InputError(AccordError):
    """Bad input: a file, a row or a field that does not conform. Carries where it was found."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None, field: str | None = None):
        self.source, self.line, self.field = source, line, field
        where = ":".join(str(x) for x in (source, line) if x is not None)
        prefix = f"{where}: " if where else ""
        infield = f"field '{field}': " if field else ""
        super().__init__(f"{prefix}{infield}{message}")


class NotFoundError(AccordError):
    """A named thing (event, pack, notice) does not exist (or is not the caller's to see)."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class IntegrityError(AccordError):
    """The ledger failed verification."""

    exit_code = 3


class ConflictError(AccordError):
    """A step the current state (or the law) does not allow: a transfer that was not allowed, a closed
    detainer lifted again, a notice sent twice. The HTTP API answers 409."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)
