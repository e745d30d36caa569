"""Where the hub may send a platform's webhooks: a public address, unless the deployment allows
others (``PUHUI_WEBHOOK_PRIVATE_ADDRESSES``, or demo mode, whose receivers are on loopback).

A platform sets its own webhook URL, and the hub then POSTs to it: a URL at a loopback, private,
link-local or otherwise non-public address (``ipaddress``'s ``is_global``; a cloud's metadata
service at 169.254.169.254, the hub's own database port …) would let a platform make the hub send
requests inside its network. The URL's host is checked when it is set and again before each
delivery (a name may point elsewhere later). A name is resolved each time; one that does not
resolve is refused. What remains: a name that resolves to a public address when checked and to a
private one when the HTTP client connects an instant later (DNS rebinding) — closing that needs
the connection made to the checked address itself.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import httpx

Resolver = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (OSError when it does not)."""
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def not_public(url: str, resolver: Resolver = resolve) -> str | None:
    """Why the hub may not send to ``url`` (its host at a non-public address, or unresolvable),
    or None when every address of its host is public."""
    host = httpx.URL(url).host
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver(host)
        except OSError:
            return f"{host} does not resolve"
    for address in addresses:
        found = ipaddress.ip_address(address.split("%")[0])
        if not found.is_global:
            return f"{host} is at {found}, not a public address"
    return None if addresses else f"{host} does not resolve"
