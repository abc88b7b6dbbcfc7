"""Keeping the page read model (:mod:`foodtrace.resolver.pageviews`) current, and serving
from it.

The refresher is a thread in the serving process. About every ``interval`` seconds it builds
the pages that scans missed (a code seen for the first time, or whose row could not be
served) and rebuilds stored pages that cannot be served as they are: marked stale by a new
entry, built on an earlier day, against an earlier anchor, or showing records proved in (or
pending after) an older latest checkpoint. It is not elected: with several workers each one
refreshes what it is asked for and what is due, and rows are replaced whole in their own
transaction, so two workers rebuilding one page write the same bytes and the loser's
conflict is dropped. Serving never waits for it (a row that cannot be served is built on
demand, as without the read model), so a slow refresher costs speed, never correctness.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.anchors import AnchorInfo
from foodtrace.ledger.models import Anchor, Deployment
from foodtrace.resolver import pages, pageviews
from foodtrace.resolver.codes import CodeRejected, authority_keys, check_code
from foodtrace.resolver.display import today_cst
from foodtrace.resolver.pageviews import Current, StoredPage
from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.groupcommit import WRITER_LOCK_KEY
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogEntry
from foodtrace.trace.codes import Code, CodeKind

BATCH: Final = 200  # pages rebuilt per round before looking at requests again
MAX_REQUESTED: Final = 10_000  # missed pages remembered between rounds

logger = logging.getLogger(__name__)


def stored_kind(code: Code, mode: str) -> bool:
    """Merchant and lot pages are stored (a serial's page shows its own scan count)."""
    return mode in pageviews.STORED_MODES and code.kind in (CodeKind.MERCHANT, CodeKind.LOT)


# The latest anchor's columns as latest_anchor() selects it, without loading ORM objects
# (on a stored page's path this query is a third of the work).
_LATEST_ANCHOR: Final = (
    select(
        Anchor.tree_size,
        Anchor.root,
        Anchor.status,
        Anchor.tx_hash,
        Anchor.block_number,
        Deployment.contract_address,
        Deployment.chain_id,
        Deployment.log_id,
    )
    .join(Anchor, Anchor.deployment_id == Deployment.id)
    .where(Deployment.retired_at.is_(None), Anchor.tx_hash.is_not(None), Anchor.status != "lost")
    .order_by(Anchor.tree_size.desc(), Deployment.id)
    .limit(1)
)


def current(session: Session, latest: SignedCheckpoint) -> Current:
    """What a stored page must have been built against to be served at ``latest``."""
    row = session.execute(_LATEST_ANCHOR).first()
    anchor = None
    if row is not None:
        size, root, status, tx, block, contract, chain_id, log_id = row
        anchor = AnchorInfo(
            size,
            bytes(root),
            status,
            "0x" + bytes(tx).hex() if tx else None,
            block,
            contract,
            int(chain_id),
            "0x" + bytes(log_id).hex(),
        )
    return Current(latest.size, pageviews.anchor_tag(anchor), today())


def today() -> str:
    return today_cst().isoformat()


def answer(row: StoredPage, latest: SignedCheckpoint, log: MerkleLog, settings: Settings) -> bytes:
    """The stored answer at ``latest``: as stored when built at it, else (JSON only; an
    HTML row is usable then only if nothing on it depends on the latest checkpoint) with
    its ``"latest"`` recomputed: the checkpoint note and consistency proofs from the
    checkpoints its records are proved in."""
    if row.built_size == latest.size or row.split is None:
        return row.body
    sizes = [int(s) for s in json.loads(row.latest_from)]
    value = pages.latest_value(settings, log, latest, {}, sizes)
    return row.body[: row.split] + pages.encode(value) + b"}"


def build(
    session: Session,
    log: MerkleLog,
    settings: Settings,
    code: Code,
    mode: str,
    range_c: tuple[float, float],
    latest: SignedCheckpoint | None,
) -> tuple[pages.BuiltPage | None, str]:
    """The code's page (JSON or HTML; None if it names nothing) and its template."""
    page, template = pages.page_data(session, code, range_c)
    if page is None:
        return None, template
    if mode == "json":
        return pages.build_json(session, log, settings, code, page, latest), template
    return pages.build_html(session, log, settings, code, page, template, latest), template


def rebuild(
    session: Session,
    log: MerkleLog,
    settings: Settings,
    range_c: tuple[float, float],
    page_key: str,
    mode: str,
    url: str,
) -> bool:
    """Build one page and store it (the caller commits); False if it is not a stored page."""
    try:
        code = check_code(url, authority_keys(settings))
    except CodeRejected:
        return False
    if not stored_kind(code, mode) or code.subject.path() != page_key:
        return False
    day = today()
    size = _log_size(session)  # before the build reads anything
    built, _ = build(session, log, settings, code, mode, range_c, log.latest_checkpoint())
    if built is None:
        return False
    # An entry committed while the page was built may have marked its old row stale (or
    # changed what it shows before any row existed): storing this build would undo that.
    # Store only if the log has not grown since the build began, checked under the log
    # writers' own lock on PostgreSQL so that none commits before this store does.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITER_LOCK_KEY})
    if _log_size(session) != size:
        raise Outdated(page_key)
    subjects = pageviews.page_subjects(page_key, built.records)
    pageviews.store(session, page_key, mode, url, built, day, subjects)
    return True


class Outdated(Exception):
    """The log grew while a page was built: build it again next round."""


def _log_size(session: Session) -> int:
    last = session.scalar(select(func.max(LogEntry.leaf_index)))
    return 0 if last is None else int(last) + 1


class PageRefresher:
    """The refresher thread (see the module docstring); ``request`` is safe from any thread."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        log: MerkleLog,
        settings: Settings,
        range_c: tuple[float, float],
        interval: float,
    ) -> None:
        self._sessions = sessions
        self._log = log
        self._settings = settings
        self._range_c = range_c
        self._interval = interval
        self._requested: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # The checkpoint, anchor and day every stored page was last checked against: while
        # they stay, only rows marked stale can need a rebuild.
        self._settled: Current | None = None

    def request(self, page_key: str, mode: str, url: str) -> None:
        with self._lock:
            if len(self._requested) < MAX_REQUESTED:
                self._requested.setdefault((page_key, mode), url)

    def start(self) -> PageRefresher:
        self._stop.clear()  # (started again after a close)
        self._thread = threading.Thread(target=self._run, name="page-refresher", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while self.refresh_once() and not self._stop.is_set():
                    pass
            except Exception:  # the next round tries again; serving builds on demand
                logger.exception("refreshing stored pages failed")

    def refresh_once(self) -> int:
        """One round: up to :data:`BATCH` requested or due pages rebuilt; how many."""
        with self._lock:
            work = list(self._requested.items())[:BATCH]
            for key, _ in work:
                del self._requested[key]
        latest = self._log.latest_checkpoint()
        if latest is None:
            return 0
        with self._sessions() as session:
            if len(work) < BATCH:
                now = current(session, latest)
                known = {k for k, _ in work}
                room = BATCH - len(work)
                settled = now == self._settled
                found = pageviews.due(session, now, room, stale_only=settled)
                if not settled and len(found) < room:
                    self._settled = now  # all outdated rows are in this round
                work += [((k, m), u) for k, m, u in found if (k, m) not in known]
        done = 0
        for (page_key, mode), url in work:
            with self._sessions() as session:
                try:
                    if rebuild(
                        session, self._log, self._settings, self._range_c, page_key, mode, url
                    ):
                        session.commit()
                        done += 1
                except IntegrityError:  # another worker stored it first
                    session.rollback()
                except (OperationalError, Outdated):  # busy (SQLite's one writer) or the
                    session.rollback()  # log grew meanwhile: next round
                    self.request(page_key, mode, url)
        return done


def refresh_all(
    sessions: Callable[[], Session],
    log: MerkleLog,
    settings: Settings,
    range_c: tuple[float, float],
    codes: list[tuple[str, str, str]],
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Build and store the pages of ``codes`` (page key, mode, URL), committing every 500:
    the rebuild-from-log path (``bench/resolve.py`` seeds its read model with it)."""
    done = 0
    session = sessions()
    try:
        for n, (page_key, mode, url) in enumerate(codes, 1):
            try:
                done += rebuild(session, log, settings, range_c, page_key, mode, url)
            except Outdated:  # a write landed meanwhile: the refresher stores it later
                continue
            if n % 500 == 0:
                session.commit()
                if progress is not None:
                    progress(n)
        session.commit()
    finally:
        session.close()
    return done
