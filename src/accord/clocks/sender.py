"""One webhook attempt: a signed POST with a time limit, redirects never followed.

The HTTP client is httpx on httpcore with the :class:`~accord.clocks.addresses.GuardedBackend`,
so every connection goes to an address checked when it is made. An attempt never raises: what went
wrong becomes its :class:`Outcome` (a status, or a one-line reason with no personal data).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import lru_cache
from datetime import datetime, timezone

import httpcore
import httpx

from .addresses import GuardedBackend, Resolver, system_resolver
from .signing import headers

USER_AGENT = "Accord-Webhooks/1 (+https://www.standardwebhooks.com)"
_BODY_READ = 64 * 1024  # read at most this much of an answer (its content is not used)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait (Retry-After)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver wants no more (the endpoint is disabled)."""
        return self.status == 410

    @property
    def reason(self) -> str:
        if self.error is not None:
            return self.error
        if self.status is not None and 300 <= self.status < 400:
            return f"answered {self.status}: a redirect, not followed (update the webhook URL)"
        return f"answered {self.status}"


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with its connection pool built on the guarded network backend."""

    def __init__(self, *, allow_loopback: bool, resolver: Resolver = system_resolver, max_connections: int = 64) -> None:
        ctx = _tls()
        super().__init__(verify=ctx, trust_env=False)
        # httpx builds its pool in __init__ without a way to pass a network backend: replace it.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ctx, max_connections=max_connections, max_keepalive_connections=max_connections,
            keepalive_expiry=30.0, network_backend=GuardedBackend(allow_loopback, resolver))


@lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """Certificate-verifying TLS, with certifi's roots as httpx uses (made once: it costs ~0.2 s)."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


def client(*, allow_loopback: bool, timeout: float, resolver: Resolver = system_resolver,
           max_connections: int = 64) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=GuardedTransport(allow_loopback=allow_loopback, resolver=resolver,
                                                        max_connections=max_connections),
                             timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                             headers={"user-agent": USER_AGENT})


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, (parsedate_to_datetime(value) - datetime.now(timezone.utc)).total_seconds())
        except (TypeError, ValueError):
            return None


async def attempt(http: httpx.AsyncClient, url: str, msg_id: str, body: str, secret: str, timestamp: int,
                  timeout: float) -> Outcome:
    """POST ``body`` to ``url``, signed for this attempt; the whole exchange within ``timeout`` seconds."""
    async def exchange() -> Outcome:
        async with http.stream("POST", url, content=body.encode(), headers=headers(secret, msg_id, timestamp, body)) as r:
            read = 0
            async for chunk in r.aiter_raw():
                read += len(chunk)
                if read > _BODY_READ:
                    break
            return Outcome(status=r.status_code, retry_after=_retry_after(r.headers.get("retry-after")))

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except (asyncio.TimeoutError, httpx.TimeoutException):
        return Outcome(error=f"no answer within {timeout:g} s (timed out)")
    except httpx.HTTPError as exc:
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        return Outcome(error=f"{exc.__class__.__name__}: {text}".rstrip(": "))
    except Exception as exc:  # noqa: BLE001 - an attempt reports, it never brings the dispatcher down
        return Outcome(error=f"{exc.__class__.__name__}")
