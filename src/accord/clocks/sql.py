"""Times as the clocks store them: ``stamp`` (from the read model) and ``moment`` back."""

from __future__ import annotations

from datetime import datetime, timezone

from accord.service.projector import stamp


def moment(text: str | None) -> datetime | None:
    """A stored stamp back as an aware UTC datetime.

    >>> moment("2024-11-13T14:00:00.000000Z").isoformat()
    '2024-11-13T14:00:00+00:00'
    """
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


__all__ = ["moment", "stamp"]
