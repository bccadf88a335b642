"""Requests per API token, with the ``limits`` library: over the limit is a 429 with ``Retry-After``.

Counters live in the server process (``limits``' memory storage, a sliding window): with N
workers a token can make up to N times the limit in total. A shared counter needs a shared
store (``limits`` speaks Redis, Memcached, MongoDB); none is part of Accord's install.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from .problems import ProblemError


class RateLimiter:
    def __init__(self, spec: str) -> None:
        self.item = parse(spec)
        self.limiter = SlidingWindowCounterRateLimiter(MemoryStorage())

    def hit(self, key: str) -> None:
        """Count one request of ``key``; a :class:`ProblemError` 429 once it is over its limit."""
        if self.limiter.hit(self.item, key):
            return
        stats = self.limiter.get_window_stats(self.item, key)
        retry = max(1, math.ceil(stats.reset_time - time.time()))
        raise ProblemError(429, f"rate limit of {self.item} per token exceeded; retry in {retry} s", kind="rate-limited",
                           headers={"Retry-After": str(retry)})
