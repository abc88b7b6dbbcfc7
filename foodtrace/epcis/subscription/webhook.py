"""Where a subscription may send events, and how a delivery is signed.

A webhook URL is chosen by the subscriber but fetched by our server, so it must not reach
what only the server can: only ``http``/``https``, and every address the host resolves to
must be public (globally routable). Loopback is allowed only when
``Settings.webhook_allow_loopback`` says so (tests, one-machine setups); private, link-local
(cloud metadata at 169.254.169.254), multicast and reserved ranges never are. The check runs
when the subscription is made and again before every delivery, since DNS answers change.

Deliveries carry ``GS1-Signature``: the base64 HMAC-SHA256 of the exact body under the
subscription's ``signatureToken`` (the EPCIS 2.0 REST binding leaves the algorithm to the
implementation; this is the common choice), so the subscriber can tell they come from us.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import socket
from typing import Final
from urllib.parse import urlsplit

SCHEMES: Final = ("http", "https")
SIGNATURE_HEADER: Final = "GS1-Signature"


class WebhookRefused(ValueError):
    """A webhook URL the server will not call, and why."""


def signature(token: str, body: bytes) -> str:
    digest = hmac.new(token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def address_allowed(address: str, allow_loopback: bool) -> bool:
    """Whether the server may connect to ``address`` for a subscriber."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def check_dest(url: str, allow_loopback: bool) -> None:
    """Raise :class:`WebhookRefused` unless ``url`` is an http(s) URL whose host resolves
    only to addresses the server may call."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SCHEMES:
        raise WebhookRefused(f"expected an http or https URL, got scheme {parts.scheme!r}")
    host = parts.hostname
    if not host:
        raise WebhookRefused("expected a URL with a host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as exc:
        raise WebhookRefused(f"cannot resolve {host!r}: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}
    refused = sorted(a for a in addresses if not address_allowed(a, allow_loopback))
    if refused:
        what = "loopback is not allowed here" if allow_loopback is False else "not public"
        raise WebhookRefused(
            f"{host} resolves to {', '.join(refused)}: webhooks must reach public addresses "
            f"({what})"
        )
