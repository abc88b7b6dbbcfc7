"""Clone detection's pure rules: which network a scan came from, and when a serial code
looks cloned. No database, no clock, no HTTP: the service passes times and addresses in.

A serial code names one physical item. Its genuine life is a handful of scans from a few
networks (the shop's Wi-Fi, the buyer's phone on a carrier, perhaps an inspector), and one
person moving changes network a few times a day at most. A label photocopied onto fakes is
scanned from many networks at once. So a code is flagged only when it is seen from at least
``min_networks`` distinct client networks within ``window_seconds``: many scans from one
network (a shop, a curious child, a script) never flag, and a client header saying where
the scan came from counts for nothing. A flag decays after ``decay_seconds`` and an
inspector can clear it; either way later anomalies can flag it again.

A network is the connection's IPv4 /24 or IPv6 /48 (one site or carrier pool, not one
person), learned from ``X-Forwarded-For`` only when the connection comes from a configured
trusted proxy. It is kept only as a keyed hash, truncated (:func:`network_id`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from foodtrace.trace.codes import AI_LOT, AI_SERIAL, CODE_VERSION, CodeKind

IPV4_PREFIX = 24
IPV6_PREFIX = 48
NETWORK_ID_HEX = 16  # 64 bits of HMAC-SHA256: enough to tell networks apart, no more

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Thresholds:
    """When a serial code is flagged, and for how long (defaults in foodtrace.config)."""

    window_seconds: int
    min_networks: int
    decay_seconds: int

    def __post_init__(self) -> None:
        if self.window_seconds < 1 or self.min_networks < 2 or self.decay_seconds < 1:
            raise ValueError(
                "expected window_seconds >= 1, min_networks >= 2, decay_seconds >= 1, got "
                f"{self.window_seconds}, {self.min_networks}, {self.decay_seconds}"
            )

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds)

    @property
    def decay(self) -> timedelta:
        return timedelta(seconds=self.decay_seconds)


def code_kind(code_key: str) -> CodeKind:
    """The kind of code a signed message names (``ft1|m|…``, ``ft1|01|…|10|…``, ``…|21|…``)."""
    parts = code_key.split("|")
    if len(parts) == 3 and parts[:2] == [CODE_VERSION, "m"]:
        return CodeKind.MERCHANT
    if len(parts) == 5 and parts[0] == CODE_VERSION and parts[1] == "01":
        if parts[3] == AI_LOT:
            return CodeKind.LOT
        if parts[3] == AI_SERIAL:
            return CodeKind.SERIAL
    raise ValueError(f"code_key: expected a code's signed message (ft1|…), got {code_key!r:.80}")


def code_text(code_key: str) -> str:
    """The human-readable form: the merchant id or the GS1 element string."""
    parts = code_key.split("|")
    if code_kind(code_key) is CodeKind.MERCHANT:
        return parts[2]
    return f"(01){parts[2]}({parts[3]}){parts[4]}"


# --- networks --------------------------------------------------------------------------------


def parse_proxies(text: str) -> tuple[IPNetwork, ...]:
    """``FOODTRACE_TRUSTED_PROXIES``: comma-separated CIDRs (or single addresses)."""
    nets: list[IPNetwork] = []
    for part in text.split(","):
        if part.strip():
            try:
                nets.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: expected CIDRs, got {part.strip()!r}") from exc
    return tuple(nets)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(text.strip().removeprefix("[").split("]")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(
    addr: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[IPNetwork]
) -> bool:
    return any(addr.version == net.version and addr in net for net in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[IPNetwork]
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The client's address: the connection's, unless it is a trusted proxy; then the
    right-most ``X-Forwarded-For`` hop that is not itself a trusted proxy (hops further left
    were written by the client and prove nothing). None if nothing parses."""
    addr = _address(peer) if peer else None
    if addr is None or not forwarded_for or not _trusted(addr, proxies):
        return addr
    for hop in reversed(forwarded_for.split(",")):
        parsed = _address(hop)
        if parsed is None:
            return addr  # a garbled hop: the proxy's own address is all we know
        if not _trusted(parsed, proxies):
            return parsed
        addr = parsed
    return addr


def network_of(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> IPNetwork:
    """The address's IPv4 /24 or IPv6 /48."""
    prefix = IPV4_PREFIX if addr.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{addr}/{prefix}", strict=False)


def network_id(net: IPNetwork, key: bytes) -> str:
    """A keyed hash of the network, truncated: what is stored instead of the network."""
    mac = hmac.new(key, net.with_prefixlen.encode("ascii"), hashlib.sha256)
    return mac.hexdigest()[:NETWORK_ID_HEX]


def client_network_id(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[IPNetwork], key: bytes
) -> str | None:
    """:func:`network_id` of the client's network, or None (not counted) if unknown."""
    addr = client_address(peer, forwarded_for, proxies)
    return None if addr is None else network_id(network_of(addr), key)


# --- flags -----------------------------------------------------------------------------------


def assess(kind: CodeKind, networks_in_window: int, t: Thresholds) -> str | None:
    """Why a code looks cloned (in Chinese, for the page and inspectors), or None."""
    if kind is not CodeKind.SERIAL or networks_in_window < t.min_networks:
        return None
    minutes = t.window_seconds / 60
    span = f"{minutes / 60:g}小时" if minutes >= 60 else f"{minutes:g}分钟"
    return (
        f"{span}内从{networks_in_window}个不同网络被扫描，单件商品不可能同时出现在这么多地方"
        f"（阈值{t.min_networks}个）"
    )


def networks_in_window(last_seen: dict[str, datetime], now: datetime, t: Thresholds) -> int:
    """How many networks were last seen within the window ending at ``now``."""
    low = now - t.window
    return sum(low < at <= now for at in last_seen.values())


def flag_active(
    flagged_at: datetime | None, cleared_at: datetime | None, now: datetime, t: Thresholds
) -> bool:
    """A flag holds from ``flagged_at`` until it decays or an inspector clears it."""
    if flagged_at is None or (cleared_at is not None and cleared_at >= flagged_at):
        return False
    return now < flagged_at + t.decay
