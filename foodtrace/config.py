"""Settings, from the environment (``FOODTRACE_*``) or a ``.env`` file, with embedded defaults.

Defaults run everything on one machine with nothing else installed: a SQLite file and the
in-process chain, both under ``data_dir``. Named constants for tuning live here, in one place.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Group commit: a batch closes at this many entries or after this long, whichever is first.
BATCH_MAX_ENTRIES = 256
BATCH_MAX_WAIT_S = 0.010
# Anchoring: a new checkpoint is anchored every N entries or T seconds.
ANCHOR_EVERY_ENTRIES = 10_000
ANCHOR_EVERY_SECONDS = 60.0
ANCHOR_CONFIRMATIONS = 1
ANCHOR_POLL_SECONDS = 1.0
ANCHOR_BACKOFF_MAX_SECONDS = 60.0
# Anchored sizes are multiples of 2**ANCHOR_ALIGN_BITS (unless only the time trigger can keep
# the chain fresh): a consistency proof from such a size has at most
# bitlen(new - 1) - ANCHOR_ALIGN_BITS + 1 hashes (11 at 1M entries instead of 21).
ANCHOR_ALIGN_BITS = 10
# EPCIS query pages: events per page when the client names none, and at most.
EPCIS_DEFAULT_PER_PAGE = 30
EPCIS_MAX_PER_PAGE = 1000
# A query page also stops once its events' stored JSON passes this many bytes (at least one
# event a page); nextPageToken continues from there.
EPCIS_MAX_PAGE_BYTES = 4 * 1024 * 1024
# EPCIS subscriptions: the delivery worker looks for new events this often; a failed webhook
# is retried after 1, 2, 4, ... seconds, at most this long; one POST waits this long.
SUBSCRIPTION_POLL_SECONDS = 1.0
SUBSCRIPTION_BACKOFF_MAX_SECONDS = 300.0
WEBHOOK_TIMEOUT_SECONDS = 10.0
# The embedded chain's read-only JSON-RPC endpoint on this server (pages and scanners use it).
CHAIN_RPC_PATH = "/chain/rpc"
# Key files under data_dir when their setting is empty.
LOG_KEY_FILE = "log.key"
CODE_AUTHORITY_KEY_FILE = "code-authority.key"
MASTER_KEY_FILE = "master.key"
PLATFORM_KEY_FILE = "platform.key"
WORKBENCH_KEY_FILE = "workbench.key"
# Request limits.
MAX_ENTRY_BYTES = 64 * 1024
MAX_REQUEST_BYTES = 8 * 1024 * 1024
# Uploaded files (report PDFs, inspection photos): at most this large each, at most this many
# bytes stored per party, and collected when no record names them this long after upload.
BLOB_MAX_BYTES = 5 * 1024 * 1024
BLOB_QUOTA_BYTES_PER_PARTY = 500 * 1024 * 1024
BLOB_GC_GRACE_SECONDS = 24 * 3600
# API tokens live this many days unless issued for less; an enrolment code (registration's
# one-time code for a party's first token) must be used within this many days.
TOKEN_TTL_DAYS = 90
ENROLMENT_CODE_TTL_DAYS = 7
# Clone detection (foodtrace.scan.rules): a serial code seen from this many distinct client
# networks (IPv4 /24, IPv6 /48) within the window is flagged; the flag decays after this long.
SCAN_WINDOW_SECONDS = 3600
SCAN_CLONE_NETWORKS = 6
SCAN_FLAG_DECAY_SECONDS = 7 * 24 * 3600
# Scans counted per client network per minute (per worker); more are served, not counted.
SCAN_RATE_PER_MINUTE = 30
# Scans held in memory before they are written; past this the resolver answers 503.
SCAN_BUFFER_MAX = 50_000
# Capture: events per EPCIS document, and documents being captured at once per worker
# (more wait in line, up to the queue's length; past that: 503 + Retry-After).
MAX_EVENTS_PER_DOCUMENT = 10_000
CAPTURE_CONCURRENCY = 1
CAPTURE_QUEUE = 4
CAPTURE_PROCESSES = 1
GIL_SWITCH_INTERVAL_S = 0.0005
# Page builds waiting for a builder thread, per worker; past this: 503 + Retry-After.
RESOLVE_BUILD_QUEUE = 64
# List endpoints: rows per page when the client names none, and at most.
LIST_DEFAULT_PER_PAGE = 100
LIST_MAX_PER_PAGE = 500


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOODTRACE_", env_file=".env", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""  # empty: sqlite file in data_dir
    log_origin: str = "foodtrace.example/log"
    log_key_file: Path | None = None  # empty: data_dir/log.key, created before first signing
    chain_url: str = ""  # empty: the embedded chain in data_dir/chain.sqlite
    # An RPC URL browsers may call (needs CORS), shown on pages; empty with the embedded chain:
    # this server's own read-only endpoint, public_base_url + CHAIN_RPC_PATH.
    chain_public_url: str = ""
    contract_address: str = ""  # empty: deployed on first use, recorded in the database
    anchor_every_entries: int = ANCHOR_EVERY_ENTRIES
    anchor_every_seconds: float = ANCHOR_EVERY_SECONDS
    anchor_confirmations: int = ANCHOR_CONFIRMATIONS
    batch_max_entries: int = BATCH_MAX_ENTRIES
    batch_max_wait_s: float = BATCH_MAX_WAIT_S
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # Bulk appends (ingest, `foodtrace append`) commit this many entries per transaction.
    bulk_batch_max_entries: int = 16_384
    chain_key_file: Path | None = None  # external chains only; empty: data_dir/chain.key
    # The anchorer wakes this often to check whether an anchor is due or final.
    anchor_poll_seconds: float = ANCHOR_POLL_SECONDS
    # While the chain is unreachable it retries after 1, 2, 4, ... seconds, at most this long.
    anchor_backoff_max_seconds: float = ANCHOR_BACKOFF_MAX_SECONDS
    # Anchor sizes that are multiples of 2**this (0: anchor the exact size each time).
    anchor_align_bits: int = ANCHOR_ALIGN_BITS
    # Codes (食安码): the authority key that signs them; empty: data_dir/code-authority.key.
    code_authority_key_file: Path | None = None
    # The platform's own signing key for entries it writes for the public (complaints);
    # empty: data_dir/platform.key. Its author id in the log:
    platform_key_file: Path | None = None
    # The master key sealing custodial keys; empty: data_dir/master.key (or FOODTRACE_MASTER_KEY).
    master_key_file: Path | None = None
    # The key the workbench's session cookies and CSRF tokens are derived from;
    # empty: data_dir/workbench.key.
    workbench_key_file: Path | None = None
    platform_author: str = "foodtrace-platform"
    # Public complaints: at most this many per client address per minute (per worker).
    complaint_rate_per_minute: int = 5
    # 所社联动 clocks of a routed complaint: first response, then feedback, from receipt.
    complaint_response_minutes: int = 30
    complaint_feedback_hours: int = 24
    # Regrade a business when a write changes any input of its grade (foodtrace.grading.hook),
    # on the writer's thread after the write committed; debounce > 0 gathers the writes of
    # that many seconds into one recomputation, on a timer thread.
    grade_recompute_on_write: bool = True
    grade_recompute_debounce_s: float = 0.0
    # Clone detection for serial codes (foodtrace.scan.rules): flagged when seen from
    # scan_clone_networks distinct client networks within scan_window_seconds; the flag
    # decays after scan_flag_decay_seconds (an inspector may clear it sooner, logged).
    scan_window_seconds: int = SCAN_WINDOW_SECONDS
    scan_clone_networks: int = SCAN_CLONE_NETWORKS
    scan_flag_decay_seconds: int = SCAN_FLAG_DECAY_SECONDS
    scan_rate_per_minute: int = SCAN_RATE_PER_MINUTE
    # Proxies whose X-Forwarded-For is believed (comma-separated CIDRs); empty: none, the
    # connection's own address is the client's.
    trusted_proxies: str = ""
    # Keys the network hashes scans are counted under; empty: derived from the code
    # authority key (the same on every worker of one deployment).
    scan_network_secret: str = ""
    max_events_per_document: int = MAX_EVENTS_PER_DOCUMENT
    # Serving processes only (foodtrace.api.worker.tune_interpreter): how often a thread
    # holding the GIL hands it over (sys.setswitchinterval; 0: Python's
    # 5 ms). A capture is pure-Python work on a worker thread; each time a page request's
    # socket or SQLite call gives the GIL up, it waits up to this long to get it back.
    gil_switch_interval_s: float = GIL_SWITCH_INTERVAL_S
    capture_concurrency: int = CAPTURE_CONCURRENCY
    capture_queue: int = CAPTURE_QUEUE
    # Processes (per worker, started on the first capture) that parse, validate and sign
    # capture documents, so that CPU work leaves the interpreter serving pages; 0: do it on
    # the capture's own worker thread.
    capture_processes: int = CAPTURE_PROCESSES
    # EPCIS subscriptions: how often the delivery worker polls, and whether webhooks may
    # target loopback addresses (tests, single-machine setups; never private networks).
    subscription_poll_seconds: float = SUBSCRIPTION_POLL_SECONDS
    webhook_allow_loopback: bool = False
    # Witnesses (C2SP tlog-witness) asked to cosign checkpoints: comma-separated
    # "<cosigner vkey>@<submission URL prefix>". witnesses_required is only sent to pages as
    # the operator's suggestion: pages count only the witnesses their user pinned.
    witnesses: str = ""
    witnesses_required: int = 0
    # The server submits each new checkpoint to them itself (foodtrace/witness/collector.py):
    # every this many seconds per witness, each request bounded by the timeout.
    witness_poll_seconds: float = 2.0
    witness_timeout_seconds: float = 5.0

    # Recall clocks count working days: weekdays except these public holidays, plus these
    # weekend make-up working days (调休); JSON lists of dates, e.g. ["2026-10-01", …].
    recall_holidays: list[date] = []
    recall_workdays: list[date] = []
    # Several workers on PostgreSQL (README, "Several workers"): "off" appends in-process;
    # "worker" queues writes for the elected sequencer; "candidate" also stands for election.
    sequencer: Literal["off", "worker", "candidate"] = "off"
    # A worker answers 503 if no sequencer integrated its group within this many seconds.
    sequencer_wait_s: float = 30.0
    blob_max_bytes: int = BLOB_MAX_BYTES
    blob_quota_bytes_per_party: int = BLOB_QUOTA_BYTES_PER_PARTY
    blob_gc_grace_seconds: float = BLOB_GC_GRACE_SECONDS
    token_ttl_days: int = TOKEN_TTL_DAYS
    enrolment_code_ttl_days: int = ENROLMENT_CODE_TTL_DAYS

    @model_validator(mode="after")
    def _default_chain_public_url(self) -> Settings:
        """With the embedded chain, pages read it through this server's own endpoint."""
        if not self.chain_public_url and not self.chain_url:
            self.chain_public_url = self.public_base_url.rstrip("/") + CHAIN_RPC_PATH
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'foodtrace.db').resolve()}"

    @cached_property
    def resolved_log_key_file(self) -> Path:
        return self.log_key_file or self.data_dir / LOG_KEY_FILE

    @cached_property
    def resolved_code_authority_key_file(self) -> Path:
        return self.code_authority_key_file or self.data_dir / CODE_AUTHORITY_KEY_FILE

    @cached_property
    def resolved_master_key_file(self) -> Path:
        return self.master_key_file or self.data_dir / MASTER_KEY_FILE

    @cached_property
    def resolved_platform_key_file(self) -> Path:
        return self.platform_key_file or self.data_dir / PLATFORM_KEY_FILE

    @cached_property
    def resolved_workbench_key_file(self) -> Path:
        return self.workbench_key_file or self.data_dir / WORKBENCH_KEY_FILE

    @cached_property
    def chain_db_path(self) -> Path:
        return self.data_dir / "chain.sqlite"

    @cached_property
    def resolved_chain_key_file(self) -> Path:
        return self.chain_key_file or self.data_dir / "chain.key"
