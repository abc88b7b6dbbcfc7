"""The delivery worker: POSTs each subscription's new matching events to its webhook.

Started with the app (and stopped with it), it wakes every ``subscription_poll_seconds``.
For each subscription due, it reads the matching events after its mark (record id order),
POSTs them as one EPCISQueryDocument, and advances the mark to the last event sent only
once the webhook answered 2xx — in a compare-and-set, so the mark never moves backwards or
past what was acknowledged. A failure (refused address, network error, non-2xx) leaves the
mark and retries after 1, 2, 4, … seconds (at most ``SUBSCRIPTION_BACKOFF_MAX_SECONDS``).
Delivery is thus at least once (a webhook that stored the events but whose answer was lost
gets them again) and never resends what was acknowledged, across restarts too: the mark is
in the database.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from foodtrace.config import SUBSCRIPTION_BACKOFF_MAX_SECONDS, WEBHOOK_TIMEOUT_SECONDS, Settings
from foodtrace.epcis import documents
from foodtrace.epcis.subscription import service, webhook
from foodtrace.epcis.subscription.models import NamedQuery, Subscription
from foodtrace.store.db import begin_write

log = logging.getLogger(__name__)

SessionFactory = Callable[[], Session]
Post = Callable[[str, bytes, dict[str, str]], int]
"""Send one delivery (URL, body, headers) and give the HTTP status."""


def backoff(failures: int) -> float:
    return float(min(2 ** max(failures - 1, 0), SUBSCRIPTION_BACKOFF_MAX_SECONDS))


def http_post(client: httpx.Client) -> Post:
    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        return client.post(url, content=body, headers=headers).status_code

    return post


def deliver_due(
    sessions: SessionFactory, post: Post, *, allow_loopback: bool, now: datetime | None = None
) -> int:
    """One pass over the subscriptions due; returns how many events were acknowledged."""
    now = now or datetime.now(UTC)
    with sessions() as session:
        subs = list(session.scalars(select(Subscription).order_by(Subscription.created_at)))
    acknowledged = 0
    for sub in subs:
        due = sub.next_attempt_at
        if due is not None and (due if due.tzinfo else due.replace(tzinfo=UTC)) > now:
            continue
        acknowledged += _deliver_one(sessions, post, sub, allow_loopback, now)
    return acknowledged


def _deliver_one(
    sessions: SessionFactory, post: Post, sub: Subscription, allow_loopback: bool, now: datetime
) -> int:
    with sessions() as session:
        named = session.get(NamedQuery, sub.query_name)
        if named is None:
            return 0
        rows = service.pending_events(session, sub, service.parse_stored(named))
    if not rows:
        return 0
    body = json.dumps(
        documents.query_document(rows, sub.query_name, sub.id), ensure_ascii=False
    ).encode()
    headers = {"Content-Type": "application/ld+json"}
    if sub.signature_token:
        headers[webhook.SIGNATURE_HEADER] = webhook.signature(sub.signature_token, body)
    try:
        webhook.check_dest(sub.dest, allow_loopback)
        status = post(sub.dest, body, headers)
        error = None if 200 <= status < 300 else f"webhook answered {status}"
    except (webhook.WebhookRefused, httpx.HTTPError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    with sessions() as session, session.begin():
        begin_write(session)
        if error is None:
            session.execute(
                update(Subscription)
                .where(
                    Subscription.id == sub.id,
                    Subscription.delivered_through == sub.delivered_through,
                )
                .values(
                    delivered_through=rows[-1].id,
                    failures=0,
                    next_attempt_at=None,
                    last_error=None,
                )
            )
            return len(rows)
        failures = sub.failures + 1
        session.execute(
            update(Subscription)
            .where(Subscription.id == sub.id)
            .values(
                failures=failures,
                next_attempt_at=now + timedelta(seconds=backoff(failures)),
                last_error=error[:1000],
            )
        )
    log.warning("subscription %s: delivery failed (%s)", sub.id, error)
    return 0


class SubscriptionWorker:
    """Runs :func:`deliver_due` in a background thread until closed."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="epcis-subscriptions", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 5)

    def _run(self) -> None:
        with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, follow_redirects=False) as client:
            post = http_post(client)
            while not self._stop.is_set():
                try:
                    deliver_due(
                        self.sessions, post, allow_loopback=self.settings.webhook_allow_loopback
                    )
                except Exception:  # keep delivering; the next pass retries
                    log.exception("subscription delivery pass failed")
                self._stop.wait(self.settings.subscription_poll_seconds)
