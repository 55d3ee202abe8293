"""The client's network address, as the lockout and the audit trail should see it.

Behind a reverse proxy, ``REMOTE_ADDR`` is the proxy, so every sign-in would share one
address: one attacker's failures would lock every user out, and the audit trail would name
the proxy. Each proxy appends the address it received the connection from to
``X-Forwarded-For``; with ``PROXY_COUNT`` proxies in front of us the client is the entry
``PROXY_COUNT`` places from the right. Entries further left were written by the client
itself and are never trusted, so a spoofed header cannot choose the address.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """The address of whoever opened the connection to the first trusted proxy."""
    remote = valid_address(request.META.get("REMOTE_ADDR", ""))
    proxies = trusted_proxy_count()
    if proxies == 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < proxies:
        # Fewer hops than proxies: the request did not come through them all (or a proxy
        # is misconfigured), so only the peer we can see is known.
        return remote
    return valid_address(forwarded[-proxies]) or remote


def trusted_proxy_count() -> int:
    if not getattr(settings, "BEHIND_PROXY", False):
        return 0
    return max(int(getattr(settings, "PROXY_COUNT", 1)), 0)


def valid_address(text: str) -> str | None:
    """The address in canonical form, or None when ``text`` is not an IP address."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51234"
        text = text.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
