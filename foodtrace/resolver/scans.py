"""A page view counted as a scan: from which client network (the connection's, or
``X-Forwarded-For`` from a trusted proxy only), whether that network is still under its scan
rate, and the status a page shows. No client-supplied header decides anything here.

Over the per-network rate (``scan_rate_per_minute``, per worker) a page is still served but
the scan is not counted: a shop's Wi-Fi full of customers keeps its pages, and a script
hammering one code from one network neither inflates its count nor moves its flag. Client
addresses are never kept: the limiter (in memory, one minute) and the database see only the
keyed hash of the client's network (:func:`foodtrace.scan.rules.network_id`).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache

from fastapi import Request
from sqlalchemy.orm import Session

from foodtrace.complaint.limits import RateLimiter
from foodtrace.config import Settings
from foodtrace.resolver.display import CST
from foodtrace.scan import rules
from foodtrace.scan import service as scans
from foodtrace.scan.buffer import ScanBuffer
from foodtrace.scan.rules import Thresholds

FORWARDED_FOR = "x-forwarded-for"


@dataclass(frozen=True)
class Scan:
    """One page view as clone detection sees it."""

    network: str | None  # keyed hash of the client's /24 or /48; None if unknown
    counted: bool  # False over the network's rate: served, not counted


@dataclass(frozen=True)
class ScanView:
    count: int
    places: int
    suspect: bool
    reason: str | None
    cleared_at: str | None = None  # when an inspector last cleared a flag (中国标准时间)


@lru_cache(maxsize=4)
def _derived_key(secret: str, authority_key: str) -> bytes:
    if secret:
        return hashlib.sha256(b"foodtrace/scan-network/v1\x00" + secret.encode()).digest()
    try:
        with open(authority_key, "rb") as f:
            material = f.read()
    except FileNotFoundError:
        material = os.urandom(32)  # no authority key, no verifiable code to count anyway
    return hashlib.sha256(b"foodtrace/scan-network/v1\x00" + material).digest()


def network_key(settings: Settings) -> bytes:
    """The key networks are hashed under: from ``scan_network_secret``, else derived from
    the code authority key (so every worker of one deployment hashes alike)."""
    return _derived_key(
        settings.scan_network_secret, str(settings.resolved_code_authority_key_file)
    )


class ScanCounting:
    """The resolver's per-worker view of who is scanning: trusted proxies, the network key
    and the per-network rate limit."""

    def __init__(self, settings: Settings) -> None:
        self.proxies = rules.parse_proxies(settings.trusted_proxies)
        self.settings = settings
        self.thresholds = scans.thresholds_from(settings)
        self.limiter = RateLimiter(max(settings.scan_rate_per_minute, 1))

    def of(self, request: Request) -> Scan:
        peer = request.client.host if request.client else None
        network = rules.client_network_id(
            peer, request.headers.get(FORWARDED_FOR), self.proxies, network_key(self.settings)
        )
        if network is None:
            return Scan(None, True)
        return Scan(network, self.limiter.allow(network) is None)


def count_scan(session: Session | None, buffer: ScanBuffer | None, key: str, scan: Scan) -> None:
    """Count this resolution (unless over its network's rate): into the buffer (written in
    batches; raises ScanBufferFull when it is full), or straight into the request's
    transaction when the app runs without one."""
    if not scan.counted:
        return
    if buffer is not None:
        buffer.add(key, scan.network)
    else:
        assert session is not None, "counting without a buffer writes in the request's session"
        scans.record_scan(session, key, scan.network)


def scan_view(
    session: Session, buffer: ScanBuffer | None, key: str, t: Thresholds | None = None
) -> ScanView:
    """The code's scan status, including scans counted but not yet written."""
    if buffer is not None:
        s = buffer.status(session, key)
    else:
        s = scans.scan_status(session, key, thresholds=t)
    cleared = s.cleared_at.astimezone(CST).strftime("%Y-%m-%d %H:%M") if s.cleared_at else None
    return ScanView(s.count, s.places, s.suspect, s.reason, cleared)
