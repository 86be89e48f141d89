"""Where a webhook may be sent: https only and public addresses only in production, checked
after DNS resolution, and the connection made to the very address that was checked (a second
lookup could answer differently: DNS rebinding).

Development and test (WEBHOOK_ALLOW_PRIVATE_ADDRESSES) also allow http and loopback or private
receivers, such as one on 127.0.0.1 in a test.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# host, port -> every address the name resolves to. Replaceable in tests (a resolver that
# answers private addresses for a public-looking name).
Resolver = Callable[[str, int], list[str]]


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


resolver: Resolver = system_resolver


class UnsafeDestination(Exception):
    """The URL may not receive webhooks (its scheme, or an address it resolves to)."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str  # with its query
    address: str  # the checked address to connect to


def is_public(address: str) -> bool:
    """Only globally routable unicast addresses: not private, loopback, link-local (cloud
    metadata at 169.254.169.254), shared (100.64/10), multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url_shape(url: str, *, allow_private: bool) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL fit to receive webhooks, or UnsafeDestination."""
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise UnsafeDestination("shape")  # whitespace or control characters
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed IPv6 bracket
        raise UnsafeDestination("shape") from error
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeDestination("scheme")
    if not parts.hostname or parts.username or parts.password or parts.fragment:
        raise UnsafeDestination("shape")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeDestination("port") from error
    return parts.scheme, parts.hostname, port


def resolve_destination(url: str, *, allow_private: bool) -> Destination:
    """Resolve the URL's host and check every address it has; the first is the one to use."""
    scheme, host, port = check_url_shape(url, allow_private=allow_private)
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as error:
        raise UnsafeDestination("unresolvable") from error
    if not addresses:
        raise UnsafeDestination("unresolvable")
    if not allow_private and not all(is_public(address) for address in addresses):
        raise UnsafeDestination("private_address")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(destination.host, destination.port, timeout=timeout)
        self._address = destination.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, destination: Destination, timeout: float) -> None:
        super().__init__(
            destination.host,
            destination.port,
            timeout=timeout,
            context=ssl.create_default_context(),
        )
        self._address = destination.address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the URL's host name, not the address.
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def post(destination: Destination, body: bytes, headers: dict[str, str], *, timeout: float) -> int:
    """POST to the checked address; returns the status code (redirects are not followed)."""
    connection: http.client.HTTPConnection
    if destination.scheme == "https":
        connection = _PinnedHTTPSConnection(destination, timeout)
    else:
        connection = _PinnedHTTPConnection(destination, timeout)
    try:
        connection.request("POST", destination.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # a receiver's answer is not ours to store
        return response.status
    finally:
        connection.close()
