"""The service's Prometheus metrics, all named ``foodtrace_…``, on one registry.

The registry is per process (as is the log's writer thread): under several workers each
answers ``/metrics`` for itself, and Prometheus sums the series of the scraped targets.
Counters and histograms are updated where things happen (the log writer, the HTTP
middleware); gauges that describe stored state (log size, anchor lag) are read at scrape.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Sub-millisecond to a minute: group commit waits ~10 ms, a slow PostgreSQL fsync seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

ENTRIES_APPENDED = Counter(
    "foodtrace_entries_appended",
    "Entries durably appended to the log by this process (rate() is the ingest rate)",
    registry=REGISTRY,
)
APPEND_BATCHES = Counter(
    "foodtrace_append_batches",
    "Group-commit transactions of the log writer",
    registry=REGISTRY,
)
INTEGRATION_SECONDS = Histogram(
    "foodtrace_integration_seconds",
    "Time from a submission reaching the log writer's queue to its durable commit",
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
LOG_SIZE = Gauge("foodtrace_log_entries", "Entries in the log (read at scrape)", registry=REGISTRY)
ANCHOR_LAG_ENTRIES = Gauge(
    "foodtrace_anchor_lag_entries",
    "Entries appended beyond the latest final on-chain anchor (read at scrape)",
    registry=REGISTRY,
)
ANCHOR_LAG_SECONDS = Gauge(
    "foodtrace_anchor_lag_seconds",
    "Seconds since the latest final anchor while entries wait beyond it; 0 when none wait "
    "(read at scrape; NaN when entries wait and nothing was ever anchored)",
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "foodtrace_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_ERRORS = Counter(
    "foodtrace_http_errors",
    "HTTP requests answered with a 4xx or 5xx status, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "foodtrace_http_request_seconds",
    "HTTP request latency by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PROOF_SECONDS = Histogram(
    "foodtrace_proof_seconds",
    "Latency of the routes that serve proofs: records with inclusion proofs, consistency "
    "proofs, tlog-tiles",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
PAGE_SECONDS = Histogram(
    "foodtrace_page_seconds",
    "Latency of the resolver's 食安码 routes (pages, JSON and linksets)",
    ["route"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)

UNMATCHED_ROUTE = "(unmatched)"
"""The route label of requests no route matched: one series, not one per scanned URL."""

PROOF_ROUTES = ("/api/v1/records/{index}", "/api/v1/log/consistency", "/tlog/")
PAGE_ROUTES = ("/M/{merchant_id}", "/01/{gtin}/10/{lot}", "/01/{gtin}/21/{serial}")


def route_kind(route: str) -> str | None:
    """``"proof"``, ``"page"`` or None for a route template."""
    if any(route == p or (p.endswith("/") and route.startswith(p)) for p in PROOF_ROUTES):
        return "proof"
    if route in PAGE_ROUTES:
        return "page"
    return None


def appended(entries: int, waits: Iterable[float]) -> None:
    """Called by the log writer after each committed transaction."""
    APPEND_BATCHES.inc()
    ENTRIES_APPENDED.inc(entries)
    for wait in waits:
        INTEGRATION_SECONDS.observe(wait)


def answered(method: str, route: str, status: int, seconds: float) -> None:
    """Called by the HTTP middleware once per response."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    if status >= 400:
        HTTP_ERRORS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)
    kind = route_kind(route)
    if kind == "proof":
        PROOF_SECONDS.labels(route).observe(seconds)
    elif kind == "page":
        PAGE_SECONDS.labels(route).observe(seconds)
