"""Resolver tuning from ``FOODTRACE_*`` (kept here: the shared Settings stay small)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from foodtrace.config import RESOLVE_BUILD_QUEUE


class ResolverSettings(BaseSettings):
    """Resolver tuning from ``FOODTRACE_*`` (kept here: the shared Settings stay small)."""

    model_config = SettingsConfigDict(env_prefix="FOODTRACE_", env_file=".env", extra="ignore")

    cold_chain_min_c: float = 0.0
    cold_chain_max_c: float = 8.0
    # A resolved page is reused for this long (per URL, format and log checkpoint); scans
    # are still counted per request. 0 switches the microcache off.
    resolve_cache_seconds: float = 1.0
    # Scans are counted in memory and written this often (see foodtrace.scan.service).
    scan_flush_seconds: float = 1.0
    # Pages built at once (in worker threads). One suits SQLite on a worker's one core: more
    # threads only contend for the GIL; a remote database may gain from a few.
    resolve_build_threads: int = 1
    # Page builds waiting for a builder thread; more are answered 503 + Retry-After.
    resolve_build_queue: int = RESOLVE_BUILD_QUEUE
    # Merchant and lot pages are served from the page read model (foodtrace.resolver.pageviews)
    # when their stored row is current; false builds every page (the microcache still applies).
    page_views: bool = True
    # The read model's refresher stores missed pages and rebuilds stale ones this often.
    page_refresh_seconds: float = 1.0
