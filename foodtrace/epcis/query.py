"""SimpleEventQuery over the index in SQL, with keyset pagination over a snapshot.

:mod:`foodtrace.trace.epcis.query_params` turns the parameters into filters; each filter
here becomes one indexed condition or ``EXISTS`` over an index table, never a scan of
event JSON. Results are ordered by (eventTime or recordTime, record id). A page boundary is
a position in that order and the next page starts strictly after it; the first page also
fixes a snapshot (the highest record id then stored, ids being assigned in commit order by
the one log writer) that every later page keeps, so paging while others capture neither
skips nor repeats an event, and shows exactly the events stored when it began. The
``nextPageToken`` is opaque to clients; it carries that position, the snapshot, how many
events were served (for ``eventCountLimit``) and a fingerprint of the filters, and is
refused with other filters.

Identifiers are matched by their canonical GS1 Digital Link, so ``MATCH_epc`` with a URN
finds events that named the object by Digital Link and the other way round; EPC patterns
(``urn:epc:idpat:sgtin:0614141.107346.*``) match every serial or lot of the class.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from foodtrace.epcis.index.models import (
    MEASURE_COLUMNS,
    TEXT_COLUMNS,
    EpcisEventBizTransaction,
    EpcisEventCorrection,
    EpcisEventDetail,
    EpcisEventField,
    EpcisEventPersistentDisposition,
    EpcisEventSensorReport,
)
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc, EpcisEventParty
from foodtrace.store.authors import utc
from foodtrace.store.keyset import pair_after
from foodtrace.trace.epcis import query_filters as qf
from foodtrace.trace.epcis import query_params as qp

TOKEN_PARAM: Final = "nextPageToken"


class QueryError(ValueError):
    """A query parameter is wrong; ``problems`` are (parameter, detail)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{n}: {d}" for n, d in problems))


class QueryTooLarge(ValueError):
    """More events match than the query's ``maxEventCount`` allows (QueryTooLargeException)."""

    def __init__(self, matching: int, limit: int) -> None:
        self.matching = matching
        self.limit = limit
        super().__init__(f"{matching} events match, more than maxEventCount={limit}")


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: after (key, id), within the snapshot."""

    key: datetime
    id: int
    snapshot: int
    served: int


def encode_token(query: qf.ParsedQuery, cursor: Cursor) -> str:
    position = {
        "k": _utc(cursor.key).isoformat(),
        "i": cursor.id,
        "s": cursor.snapshot,
        "n": cursor.served,
        "f": query.fingerprint,
    }
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(query: qf.ParsedQuery, token: str) -> Cursor:
    """The position a token names; refused if malformed or made for other filters."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
        cursor = Cursor(
            datetime.fromisoformat(position["k"]).astimezone(UTC),
            int(position["i"]),
            int(position["s"]),
            int(position["n"]),
        )
        fingerprint = str(position["f"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryError(
            [(TOKEN_PARAM, "expected a nextPageToken returned by this endpoint")]
        ) from None
    if fingerprint != query.fingerprint:
        raise QueryError([(TOKEN_PARAM, "this token belongs to a query with other filters")])
    return cursor


def _utc(value: datetime) -> datetime:
    converted = utc(value)
    assert converted is not None
    return converted


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "EQ":
        return column == value  # type: ignore[no-any-return]
    if op == "GT":
        return column > value  # type: ignore[no-any-return]
    if op == "GE":
        return column >= value  # type: ignore[no-any-return]
    if op == "LT":
        return column < value  # type: ignore[no-any-return]
    return column <= value  # type: ignore[no-any-return]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _having(table: Any, *conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    """Events with a row of ``table`` meeting ``conditions``. An ``IN`` over the child's
    index, not a correlated ``EXISTS``: with EXISTS, SQLite walks every event in page order
    and probes the child table for each (about 90 ms at 20k events for one lot)."""
    return EpcisEvent.id.in_(select(table.event_pk).where(*conditions))


def _epc(f: qf.EpcMatch) -> ColumnElement[bool]:
    matches = []
    for p in f.patterns:
        if p.kind == "exact":
            matches.append(EpcisEventEpc.canonical == p.text)
        elif p.kind == "prefix":
            matches.append(
                or_(
                    EpcisEventEpc.canonical == p.text,
                    EpcisEventEpc.canonical.like(_like_escape(p.text) + "/%", escape="\\"),
                )
            )
        else:
            matches.append(EpcisEventEpc.canonical.like(p.text))
    return _having(
        EpcisEventEpc,
        EpcisEventEpc.is_class.is_(f.classes),
        EpcisEventEpc.role.in_(f.roles),
        or_(*matches),
    )


def _sensor_column(attribute: str) -> Any:
    if attribute == "percRank":
        return EpcisEventSensorReport.perc_rank
    name = MEASURE_COLUMNS.get(attribute) or TEXT_COLUMNS.get(attribute) or attribute
    return getattr(EpcisEventSensorReport, name)


def _sensor(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return _having(EpcisEventSensorReport, *conditions)


def _field(f: qf.FieldMatch | qf.FieldExists) -> ColumnElement[bool]:
    named = EpcisEventField.key == f.name if f.by_key else EpcisEventField.name == f.name
    conditions = [
        EpcisEventField.scope == f.scope,
        EpcisEventField.inner.is_(f.inner),
        named,
    ]
    if isinstance(f, qf.FieldMatch):
        if f.op == "EQ":
            numbers = [n for v in f.values if (n := _number(v)) is not None]
            equal = [EpcisEventField.text.in_(f.values)]
            if numbers:
                equal.append(EpcisEventField.number.in_(numbers))
            conditions.append(or_(*equal))
        elif isinstance(f.bound, datetime):
            conditions.append(_compare(EpcisEventField.time, f.op, f.bound))
        else:
            conditions.append(_compare(EpcisEventField.number, f.op, f.bound))
    return _having(EpcisEventField, *conditions)


def _number(text: str) -> float | None:
    try:
        return qp.parse_number(text)
    except ValueError:
        return None


def condition(f: qf.Filter) -> ColumnElement[bool]:
    """The SQL condition of one filter over ``epcis_events``."""
    if isinstance(f, qf.ColumnIn):
        if f.column == "event_id":
            return or_(EpcisEvent.event_id.in_(f.values), EpcisEvent.hash_id.in_(f.values))
        if f.column in ("transformation_id", "error_reason"):
            column = getattr(EpcisEventDetail, f.column)
            return _having(EpcisEventDetail, column.in_(f.values))
        if f.column == "corrective_event_id":
            return _having(
                EpcisEventCorrection,
                EpcisEventCorrection.corrective_event_id.in_(f.values),
            )
        return getattr(EpcisEvent, f.column).in_(f.values)  # type: ignore[no-any-return]
    if isinstance(f, qf.TimeBound):
        if f.column == "error_declaration_time":
            return _having(
                EpcisEventDetail,
                _compare(EpcisEventDetail.error_declaration_time, f.op, f.at),
            )
        return _compare(getattr(EpcisEvent, f.column), f.op, f.at)
    if isinstance(f, qf.EpcMatch):
        return _epc(f)
    if isinstance(f, qf.QuantityBound):
        return _having(
            EpcisEventEpc,
            EpcisEventEpc.is_class.is_(True),
            _compare(EpcisEventEpc.quantity, f.op, f.value),
        )
    if isinstance(f, qf.PersistentIn):
        return _having(
            EpcisEventPersistentDisposition,
            EpcisEventPersistentDisposition.op == f.op,
            EpcisEventPersistentDisposition.disposition.in_(f.values),
        )
    if isinstance(f, qf.ErrorDeclared):
        return EpcisEvent.declares_error.is_(f.present)
    if isinstance(f, qf.BizTransactionIn):
        return _having(
            EpcisEventBizTransaction,
            EpcisEventBizTransaction.type == f.type,
            EpcisEventBizTransaction.biz_transaction.in_(f.values),
        )
    if isinstance(f, qf.PartyIn):
        return _having(
            EpcisEventParty,
            EpcisEventParty.direction == f.direction,
            EpcisEventParty.type == f.type,
            EpcisEventParty.party.in_(f.values),
        )
    if isinstance(f, qf.SensorIn):
        return _sensor(_sensor_column(f.attribute).in_(f.values))
    if isinstance(f, qf.SensorBound):
        bound = _compare(_sensor_column(f.attribute), f.op, f.value)
        if f.uom is not None:
            return _sensor(bound, EpcisEventSensorReport.uom == f.uom)
        return _sensor(bound)
    if isinstance(f, qf.SensorBoolean):
        return _sensor(EpcisEventSensorReport.boolean_value.is_(f.value))
    return _field(f)


def filtered(query: qf.ParsedQuery, snapshot: int | None = None) -> Select[EpcisEvent]:
    """Every event matching ``query`` (within the snapshot), unordered."""
    stmt = select(EpcisEvent).where(*(condition(f) for f in query.filters))
    if snapshot is not None:
        stmt = stmt.where(EpcisEvent.id <= snapshot)
    return stmt


def _order_key(query: qf.ParsedQuery) -> Any:
    return getattr(EpcisEvent, query.order_by)


def statement(
    query: qf.ParsedQuery, snapshot: int, limit: int, after: Cursor | None = None
) -> Select[EpcisEvent]:
    """The SELECT for one page (one more row than ``limit``, to know if another follows)."""
    stmt = filtered(query, snapshot)
    key = _order_key(query)
    if after is not None:
        beyond = (key < after.key) if query.descending else (key > after.key)
        later = (EpcisEvent.id < after.id) if query.descending else (EpcisEvent.id > after.id)
        stmt = stmt.where(or_(beyond, and_(key == after.key, later)))
    if query.descending:
        stmt = stmt.order_by(key.desc(), EpcisEvent.id.desc())
    else:
        stmt = stmt.order_by(key, EpcisEvent.id)
    return stmt.limit(limit + 1)


def snapshot_now(session: Session) -> int:
    """The highest record id stored: the snapshot a new query reads."""
    return int(session.scalar(select(func.max(EpcisEvent.id))) or 0)


def count(session: Session, query: qf.ParsedQuery, snapshot: int) -> int:
    inner = filtered(query, snapshot).with_only_columns(EpcisEvent.id).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def within_bytes(rows: list[EpcisEvent], max_bytes: int) -> int:
    """How many of ``rows`` make a page whose events' stored JSON stays within ``max_bytes``
    (at least one, so a page always moves on)."""
    total = 0
    for n, row in enumerate(rows):
        total += len(row.body.encode())
        if total > max_bytes:
            return max(n, 1)
    return len(rows)


def run(
    session: Session,
    query: qf.ParsedQuery,
    per_page: int,
    token: str | None = None,
    max_bytes: int | None = None,
) -> tuple[list[EpcisEvent], str | None]:
    """One page of matching events and the token of the next page (None on the last): at
    most ``per_page`` events, fewer once their stored JSON passes ``max_bytes``.

    Raises :class:`QueryTooLarge` on the first page when more than ``maxEventCount`` match.
    """
    after = decode_token(query, token) if token else None
    snapshot = after.snapshot if after else snapshot_now(session)
    served = after.served if after else 0
    if after is None and query.max_event_count is not None:
        matching = count(session, query, snapshot)
        if matching > query.max_event_count:
            raise QueryTooLarge(matching, query.max_event_count)
    limit = per_page
    if query.event_count_limit is not None:
        limit = min(limit, query.event_count_limit - served)
    if limit <= 0:
        return [], None
    rows = list(session.scalars(statement(query, snapshot, limit, after)))
    more = len(rows) > limit
    page = rows[:limit]
    if max_bytes is not None:
        fit = within_bytes(page, max_bytes)
        more = more or fit < len(page)
        page = page[:fit]
    if not more:
        return page, None
    if query.event_count_limit is not None and served + len(page) >= query.event_count_limit:
        return page, None
    last = page[-1]
    key = getattr(last, query.order_by)
    return page, encode_token(query, Cursor(key, last.id, snapshot, served + len(page)))


def find_event(session: Session, event_id: str) -> EpcisEvent | None:
    """The event with this id: the CBV hash id or the eventID its document gave. When an
    error declaration shares the id, the event it declares wrong comes first."""
    stmt = (
        select(EpcisEvent)
        .where(or_(EpcisEvent.hash_id == event_id, EpcisEvent.event_id == event_id))
        .order_by(EpcisEvent.declares_error, EpcisEvent.entry_index)
        .limit(1)
    )
    return session.scalars(stmt).first()


def error_declarations(session: Session, hash_id: str) -> list[int]:
    """Entry indices of error declarations of the event with ``hash_id``."""
    stmt = select(EpcisEvent.entry_index).where(
        EpcisEvent.hash_id == hash_id, EpcisEvent.declares_error.is_(True)
    )
    return list(session.scalars(stmt))


def lot_events(
    session: Session,
    lot: str,
    gtin: str | None = None,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> list[EpcisEvent]:
    """Every event naming the lot (by lgtin class or Digital Link ``/10/{lot}``), in time
    order; ``after``/``limit``: one keyset page (the API's), after the (event_time, id) the
    previous page ended with.

    The event ids come from the (lot, gtin, event_pk) index and the events by primary key:
    a correlated EXISTS here let SQLite walk every event in time order instead."""
    naming = select(EpcisEventEpc.event_pk).where(EpcisEventEpc.lot == lot)
    if gtin is not None:
        naming = naming.where(EpcisEventEpc.gtin == gtin.zfill(14))
    stmt = (
        select(EpcisEvent)
        .where(EpcisEvent.id.in_(naming))
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(pair_after(EpcisEvent.event_time, EpcisEvent.id, after, desc=False))
    return list(session.scalars(stmt))
