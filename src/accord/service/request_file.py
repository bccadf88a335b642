"""Read a JSON Lines file of access requests: all of it valid, or an error naming every bad line.

One ``{"request": RecordRequest, "requester": Agency}`` object per line (blank lines are skipped).
Like ``accord ingest``, a file with any bad line is refused whole, so nothing of it is recorded: the
file is read twice, once to check every line (keeping only request ids) and once in blocks to decide,
so memory is bounded by the block, not the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from pydantic import ValidationError

from accord.errors import InputError
from accord.ledger.ingest import MAX_REPORTED_ERRORS, IngestErrors

from accord.access.model import AccessRequest

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


def _open(path: Path):
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from None


def _parsed(path: Path) -> Iterator[tuple[int, AccessRequest | InputError]]:
    with _open(path) as fh:
        for line_no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                yield line_no, AccessRequest.model_validate_json(raw)
            except ValidationError as exc:
                yield line_no, _line_error(exc, path.name, line_no)


def check_requests(path: Path, on_line: Callable[[int], None] | None = None) -> int:
    """Validate the whole file without keeping it: the number of requests, or an :class:`IngestErrors`
    naming each bad line (at most ``MAX_REPORTED_ERRORS``), including a request id given twice."""
    errors: list[InputError] = []
    total = count = 0
    first_line: dict[str, int] = {}  # request id -> its line (ids only: ~60 B a request)
    for line_no, item in _parsed(path):
        if isinstance(item, AccessRequest):
            rid = item.request.request_id
            if rid in first_line:
                item = InputError(f"request_id {rid!r} was already given at {path.name}:{first_line[rid]}",
                                  source=path.name, line=line_no, field="request.request_id")
            else:
                first_line[rid] = line_no
                count += 1
        if isinstance(item, InputError):
            total += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(item)
        if on_line is not None:
            on_line(line_no)
    if errors:
        raise IngestErrors(path.name, errors, total)
    return count


def request_blocks(path: Path, size: int) -> Iterator[tuple[list[AccessRequest], list[int]]]:
    """The file's requests in blocks of ``size``, each with the line of every request (call
    :func:`check_requests` first: a bad line here raises at once)."""
    block: list[AccessRequest] = []
    lines: list[int] = []
    for line_no, item in _parsed(path):
        if isinstance(item, InputError):
            raise item
        block.append(item)
        lines.append(line_no)
        if len(block) == size:
            yield block, lines
            block, lines = [], []
    if block:
        yield block, lines
