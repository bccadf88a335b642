"""Where a webhook may go: an https URL whose host resolves to public addresses only.

Checked twice. At registration, :func:`check_url` refuses a URL that is not https, carries
credentials, does not resolve, or resolves to a private, loopback, link-local or otherwise
non-public address. At delivery, :class:`GuardedBackend` (the HTTP client's network backend)
resolves the host again, checks every address, and connects to the address it checked — so a DNS
answer that changes after registration (DNS rebinding) cannot steer a request inside. ``http://``
and 127.0.0.1 are allowed only with ``ACCORD_WEBHOOK_ALLOW_LOOPBACK_HTTP`` (local tests).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore

from accord.errors import InputError

#: host, port -> the addresses it resolves to (tests inject their own; the default asks the system).
Resolver = Callable[[str, int], list[str]]
LOOPBACK = ipaddress.ip_address("127.0.0.1")


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def resolve(resolver: Resolver, host: str, port: int) -> list[str]:
    """An IP literal is its own address; a name is what ``resolver`` answers."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        return resolver(host, port)


def refusal(address: str, allow_loopback: bool) -> str | None:
    """Why a request must not go to ``address`` (None: it may).

    >>> refusal("10.1.2.3", False), refusal("93.184.215.14", False), refusal("127.0.0.1", True)
    ('a private address', None, None)
    >>> refusal("::ffff:169.254.169.254", False), refusal("127.0.0.2", True)
    ('a link-local address', 'a loopback address')
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if allow_loopback and ip == LOOPBACK:
        return None
    for test, why in ((ip.is_loopback, "a loopback address"), (ip.is_link_local, "a link-local address"),
                      (ip.is_private, "a private address"), (ip.is_multicast, "a multicast address"),
                      (ip.is_unspecified, "an unspecified address"), (ip.is_reserved, "a reserved address"),
                      (not ip.is_global, "not a public address")):
        if test:
            return why
    return None


def check_url(url: str, *, allow_loopback: bool, resolver: Resolver = system_resolver) -> str:
    """The URL, if a webhook may be registered at it; else an InputError naming the problem."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise InputError("must be a URL of at most 2000 characters", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise InputError(f"is not a URL ({exc})", field="url") from None
    host = parts.hostname
    if not host or parts.scheme not in ("https", "http"):
        raise InputError("must be an https:// URL with a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InputError("must not carry credentials (user:password@); the signature authenticates us", field="url")
    if parts.fragment:
        raise InputError("must not have a #fragment", field="url")
    if parts.scheme == "http" and not (allow_loopback and host == str(LOOPBACK)):
        raise InputError("must be https:// (http:// only for 127.0.0.1 in local tests)", field="url")
    try:
        addresses = resolve(resolver, host, port)
    except (OSError, UnicodeError):
        raise InputError(f"host {host} does not resolve", field="url") from None
    if not addresses:
        raise InputError(f"host {host} does not resolve", field="url")
    for address in addresses:
        why = refusal(address, allow_loopback)
        if why is not None:
            raise InputError(f"host {host} resolves to {address}, {why}: webhooks go only to public addresses",
                             field="url")
    return url


class BlockedAddress(httpcore.ConnectError):
    """The host resolved to no address a webhook may go to (shown as the attempt's reason)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses :func:`refusal` allows."""

    def __init__(self, allow_loopback: bool, resolver: Resolver = system_resolver,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        from httpcore._backends.auto import AutoBackend  # httpcore's default backend

        self.allow_loopback = allow_loopback
        self.resolver = resolver
        self.inner = inner or AutoBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.to_thread(resolve, self.resolver, host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"host {host} does not resolve ({exc.__class__.__name__})") from None
        refused = []
        for address in addresses:
            why = refusal(address, self.allow_loopback)
            if why is None:  # connect to the very address that was checked
                return await self.inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                    socket_options=socket_options)
            refused.append(f"{address} ({why})")
        raise BlockedAddress(f"refused to connect to {host}: " + (", ".join(refused) or "no address"))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("webhooks never go to a local socket")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)
