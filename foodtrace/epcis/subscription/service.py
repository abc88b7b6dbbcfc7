"""Named queries and subscriptions: stored, listed, removed; their events found.

These are a repository's operational configuration, like capture jobs, not records: they
never enter the log (a subscription holds a webhook URL and a shared secret). Each query is
checked by the same parser as ``GET /epcis/events`` before it is stored, so a stored query
always runs. Anyone with a token may store a query or subscribe; a party sees and removes
its own (regulators see all).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.auth.models import Principal, Role
from foodtrace.config import EPCIS_MAX_PER_PAGE
from foodtrace.epcis import query
from foodtrace.epcis.models import EpcisEvent
from foodtrace.epcis.subscription import webhook
from foodtrace.epcis.subscription.models import NamedQuery, Subscription
from foodtrace.store.db import begin_write
from foodtrace.store.keyset import ascending, pair_after
from foodtrace.trace.epcis import query_filters as qf
from foodtrace.trace.epcis import query_params as qp

SessionFactory = Callable[[], Session]
NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class SubscriptionError(Exception):
    """A request about named queries or subscriptions that cannot be done: ``status`` is
    the HTTP status a view answers with; ``problems`` are (JSON pointer, detail)."""

    def __init__(self, status: int, title: str, problems: list[tuple[str, str]]) -> None:
        self.status = status
        self.title = title
        self.problems = problems
        super().__init__(f"{title}: " + "; ".join(d for _, d in problems))


def _not_found(what: str) -> SubscriptionError:
    return SubscriptionError(404, "Not Found", [("/path", f"no {what}")])


def query_pairs(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A JSON query object (``{"EQ_bizStep": ["shipping"], "GE_eventTime": "…"}``) as the
    (name, value) pairs a query string would give; raises for values that are not text."""
    pairs: list[tuple[str, str]] = []
    problems = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            elif isinstance(item, str | int | float):
                pairs.append((name, str(item)))
            elif item is None:
                pairs.append((name, ""))
            else:
                problems.append((f"/body/query/{name}", "expected text, a number or a list"))
    if problems:
        raise SubscriptionError(400, "Invalid query", problems)
    return pairs


def query_pairs_of(named: NamedQuery) -> list[tuple[str, str]]:
    return query_pairs(json.loads(named.params))


def parse_stored(named: NamedQuery) -> qf.ParsedQuery:
    return qp.parse(query_pairs_of(named))


def check_query(params: Mapping[str, Any]) -> qf.ParsedQuery:
    try:
        return qp.parse(query_pairs(params))
    except qp.QueryParamError as exc:
        raise SubscriptionError(
            400, "Invalid query", [(f"/body/query/{n}", d) for n, d in exc.problems]
        ) from exc


def visible(principal: Principal, party_id: str) -> bool:
    return principal.role == Role.REGULATOR or principal.party_id == party_id


def create_query(
    sessions: SessionFactory, principal: Principal, name: str, params: Mapping[str, Any]
) -> NamedQuery:
    if not NAME_PATTERN.match(name):
        raise SubscriptionError(
            400, "Invalid query name", [("/body/name", "expected 1-128 of A-Z a-z 0-9 _ . -")]
        )
    check_query(params)
    with sessions() as session, session.begin():
        begin_write(session)
        if session.get(NamedQuery, name) is not None:
            raise SubscriptionError(
                409, "Conflict", [("/body/name", f"a query named {name} already exists")]
            )
        named = NamedQuery(
            name=name,
            party_id=principal.party_id,
            params=json.dumps(dict(params), ensure_ascii=False),
            created_at=datetime.now(UTC),
        )
        session.add(named)
    return named


def get_query(session: Session, name: str) -> NamedQuery:
    named = session.get(NamedQuery, name)
    if named is None:
        raise _not_found(f"query named {name}")
    return named


def list_queries(
    session: Session, *, after: str | None = None, limit: int | None = None
) -> list[NamedQuery]:
    """By name; ``after``/``limit``: one keyset page (the API's)."""
    return list(session.scalars(ascending(select(NamedQuery), NamedQuery.name, after, limit)))


def delete_query(sessions: SessionFactory, principal: Principal, name: str) -> None:
    """Remove a query and its subscriptions (its owner or a regulator)."""
    with sessions() as session, session.begin():
        begin_write(session)
        named = get_query(session, name)
        if not visible(principal, named.party_id):
            raise SubscriptionError(
                403, "Forbidden", [("/path/queryName", "only its owner or a regulator")]
            )
        for sub in session.scalars(select(Subscription).where(Subscription.query_name == name)):
            session.delete(sub)
        session.delete(named)


@dataclass(frozen=True)
class SubscriptionRequest:
    dest: str
    signature_token: str | None
    report_if_empty: bool
    stream: bool
    schedule: Mapping[str, Any] | None
    initial_record_time: datetime | None


def subscribe(
    sessions: SessionFactory,
    principal: Principal,
    name: str,
    asked: SubscriptionRequest,
    *,
    allow_loopback: bool,
) -> Subscription:
    """A new subscription to ``name``. Without ``initialRecordTime`` it receives only
    events stored from now on; with it, every matching event recorded since then."""
    problems: list[tuple[str, str]] = []
    try:
        webhook.check_dest(asked.dest, allow_loopback)
    except webhook.WebhookRefused as exc:
        problems.append(("/body/dest", str(exc)))
    if asked.schedule is not None or not asked.stream:
        problems.append(
            (
                "/body/schedule" if asked.schedule is not None else "/body/stream",
                "only streaming subscriptions (stream: true) are supported here; "
                "scheduled ones are not",
            )
        )
    if problems:
        raise SubscriptionError(422, "Subscription refused", problems)
    with sessions() as session, session.begin():
        begin_write(session)
        get_query(session, name)
        sub = Subscription(
            id=str(uuid.uuid4()),
            query_name=name,
            party_id=principal.party_id,
            dest=asked.dest,
            signature_token=asked.signature_token,
            report_if_empty=asked.report_if_empty,
            stream=True,
            schedule=None,
            initial_record_time=asked.initial_record_time,
            delivered_through=0 if asked.initial_record_time else query.snapshot_now(session),
            failures=0,
            next_attempt_at=None,
            last_error=None,
            created_at=datetime.now(UTC),
        )
        session.add(sub)
    return sub


def list_subscriptions(
    session: Session,
    principal: Principal,
    name: str,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[Subscription]:
    """The caller's (a regulator: every) subscription to ``name``, oldest first (ties: by
    id); ``after``/``limit``: one keyset page (the API's) on (created_at, id)."""
    get_query(session, name)
    s = Subscription
    stmt = select(s).where(s.query_name == name)
    if principal.role != Role.REGULATOR:
        stmt = stmt.where(s.party_id == principal.party_id)
    if after is not None:
        stmt = stmt.where(pair_after(s.created_at, s.id, after, desc=False))
    stmt = stmt.order_by(s.created_at, s.id)
    return list(session.scalars(stmt if limit is None else stmt.limit(limit)))


def get_subscription(
    session: Session, principal: Principal, name: str, subscription_id: str
) -> Subscription:
    sub = session.get(Subscription, subscription_id)
    if sub is None or sub.query_name != name or not visible(principal, sub.party_id):
        raise _not_found(f"subscription {subscription_id} of query {name}")
    return sub


def unsubscribe(
    sessions: SessionFactory, principal: Principal, name: str, subscription_id: str
) -> None:
    with sessions() as session, session.begin():
        begin_write(session)
        session.delete(get_subscription(session, principal, name, subscription_id))


def pending_events(
    session: Session, sub: Subscription, parsed: qf.ParsedQuery, limit: int = EPCIS_MAX_PER_PAGE
) -> list[EpcisEvent]:
    """The next matching events the subscriber has not acknowledged, in record order."""
    stmt = query.filtered(parsed, query.snapshot_now(session)).where(
        EpcisEvent.id > sub.delivered_through
    )
    if sub.initial_record_time is not None:
        stmt = stmt.where(EpcisEvent.record_time >= sub.initial_record_time)
    return list(session.scalars(stmt.order_by(EpcisEvent.id).limit(limit)))


def subscription_json(sub: Subscription) -> dict[str, Any]:
    """A subscription as the API shows it (never its signature token)."""
    return {
        "subscriptionID": sub.id,
        "queryName": sub.query_name,
        "dest": sub.dest,
        "signed": sub.signature_token is not None,
        "reportIfEmpty": sub.report_if_empty,
        "stream": sub.stream,
        "initialRecordTime": _iso(sub.initial_record_time),
        "createdAt": _iso(sub.created_at),
        "deliveredThrough": sub.delivered_through,
        "failures": sub.failures,
        "lastError": sub.last_error,
    }


def query_json(named: NamedQuery) -> dict[str, Any]:
    return {
        "name": named.name,
        "query": json.loads(named.params),
        "owner": named.party_id,
        "createdAt": _iso(named.created_at),
    }


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
