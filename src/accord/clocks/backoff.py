"""When to try a failed delivery again, and when to give up.

Exponential backoff with jitter (Standard Webhooks, "Deliverability and reliability"): the n-th
retry waits ``base * 2**(n-1)`` seconds, at most ``cap``, drawn uniformly from the upper half of
that span so that receivers recovering from an outage are not hit by every sender at once. A
``Retry-After`` from the receiver (429, 503) lengthens the wait (never beyond ``cap``). Retries go
on for the whole ``window`` counted from the first attempt — the last one at the window's end — and
a failure after that is final (dead letter).

>>> import random
>>> p = Policy(base=5, cap=3 * 3600, window=timedelta(hours=24))
>>> [all(lo <= p.delay(n, random.Random(s)) <= hi for s in range(50)) for n, lo, hi in ((1, 2.5, 5), (3, 10, 20), (30, 5400, 10800))]
[True, True, True]
>>> t0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
>>> attempts, t = 0, t0
>>> while (t := p.next_attempt(t0, t, attempts := attempts + 1, random.Random(attempts))) is not None:
...     pass
>>> attempts  # retried for at least 24 hours, then given up
23
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone


@dataclass(frozen=True)
class Policy:
    base: float = 5.0
    cap: float = 3 * 3600.0
    window: timedelta = timedelta(hours=24)

    def delay(self, attempts: int, rng: random.Random | None = None, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt."""
        span = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        wait = span / 2 + (rng or random).uniform(0, span / 2)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.cap))
        return wait

    def next_attempt(self, first: datetime, now: datetime, attempts: int, rng: random.Random | None = None,
                     retry_after: float | None = None) -> datetime | None:
        """When to try again after a failure at ``now``; None when the window is spent (dead letter)."""
        end = first + self.window
        if now >= end:
            return None
        return min(now + timedelta(seconds=self.delay(attempts, rng, retry_after)), end)
