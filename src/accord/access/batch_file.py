"""Read a JSON Lines file of access requests: all of it valid, or an error naming every bad line.

One ``{"request": RecordRequest, "requester": Agency}`` object per line (blank lines are skipped).
Like ``accord ingest``, a file with any bad line is refused whole, so nothing of it is recorded.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from accord.errors import InputError
from accord.ledger.ingest import MAX_REPORTED_ERRORS, IngestErrors

from .model import AccessRequest

#: Further problems of one line listed after its first.
MORE_PER_LINE = 5


def _line_error(exc: ValidationError, source: str, line: int) -> InputError:
    errors = exc.errors(include_input=False, include_url=False)
    first = errors[0]
    if first["type"] == "json_invalid":
        return InputError(f"not valid JSON ({first.get('ctx', {}).get('error', 'parse error')})", source=source, line=line)
    if not first["loc"]:
        return InputError('each line must be a JSON object {"request": {...}, "requester": {...}}', source=source, line=line)

    def where(e: dict) -> str:
        return ".".join(str(p) for p in e["loc"])

    more = [f"field '{where(e)}': {e['msg']}" for e in errors[1:1 + MORE_PER_LINE] if e["loc"]]
    msg = "; ".join([first["msg"], *more]) + ("; ..." if len(errors) > 1 + MORE_PER_LINE else "")
    return InputError(msg, source=source, line=line, field=where(first))


def read_requests(path: Path) -> tuple[list[AccessRequest], list[int]]:
    """Every request in the file, in order, and the line each is on; an :class:`IngestErrors` naming
    each bad line otherwise."""
    source = path.name
    out: list[AccessRequest] = []
    lines: list[int] = []
    errors: list[InputError] = []
    total = 0
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None
    with fh:
        for line_no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                out.append(AccessRequest.model_validate_json(raw))
                lines.append(line_no)
            except ValidationError as exc:
                total += 1
                if len(errors) < MAX_REPORTED_ERRORS:
                    errors.append(_line_error(exc, source, line_no))
    if errors:
        raise IngestErrors(source, errors, total)
    return out, lines
