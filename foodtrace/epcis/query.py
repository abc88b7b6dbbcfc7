"""The EPCIS 2.0 SimpleEventQuery subset over the index, with keyset pagination.

Results are ordered by (eventTime, capture order), so a page boundary is a position in that
order and the next page starts strictly after it: pages never overlap or skip, even while
new events are captured. The ``nextPageToken`` is opaque to clients; it carries that
position and a fingerprint of the filters, and a token is refused with other filters.

Identifiers are matched by their canonical GS1 Digital Link, so ``MATCH_epc`` with a URN
finds events that named the object by Digital Link and the other way round; EPC patterns
(``urn:epc:idpat:sgtin:0614141.107346.*``) match every serial or lot of the class.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from foodtrace.api.problems import FieldProblem
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc
from foodtrace.store.authors import utc
from foodtrace.trace.epcis import gs1keys, vocab
from foodtrace.trace.epcis.validate import CONTEXT_URLS

DEFAULT_PER_PAGE: Final = 30
MAX_PER_PAGE: Final = 1000
EPC_ROLES: Final = ("epcList", "childEPCs")
"""Where ``MATCH_epc`` looks (EPCIS 2.0 §8.2.7.1); ``MATCH_anyEPC`` looks in every role."""
ANY_EPC_ROLES: Final = ("epcList", "childEPCs", "parentID", "inputEPCList", "outputEPCList")
SEPARATOR: Final = "|"


class QueryError(ValueError):
    """A query parameter is wrong; ``problems`` name each one."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.pointer}: {p.detail}" for p in problems))


@dataclass(frozen=True)
class EventQuery:
    """Filters: values within one list are alternatives (OR); the lists combine with AND."""

    event_types: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    match_epc: tuple[str, ...] = ()
    match_any_epc: tuple[str, ...] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[datetime, int] | None = field(default=None, compare=False)

    def fingerprint(self) -> str:
        """Identifies the filters (not the page size or position) a token belongs to."""
        filters = {
            "t": self.event_types,
            "s": self.biz_steps,
            "d": self.dispositions,
            "l": self.biz_locations,
            "e": self.match_epc,
            "a": self.match_any_epc,
            "ge": self.ge_event_time.isoformat() if self.ge_event_time else None,
            "lt": self.lt_event_time.isoformat() if self.lt_event_time else None,
        }
        text = json.dumps(filters, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def split_values(values: Sequence[str]) -> tuple[str, ...]:
    """Repeated parameters and ``a|b`` alternatives, in order, without blanks or repeats."""
    out = [v.strip() for value in values for v in value.split(SEPARATOR)]
    return tuple(dict.fromkeys(v for v in out if v))


def parse_time(name: str, text: str | None) -> datetime | None:
    """A query timestamp; it must carry a zone so it names one instant."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise QueryError(
            [
                FieldProblem(
                    f"/query/{name}",
                    f"expected an RFC 3339 date-time with a zone, e.g. 2025-03-01T08:00:00Z, "
                    f"got {text!r}",
                )
            ]
        )
    return value.astimezone(UTC)


def encode_token(query: EventQuery, last: EpcisEvent) -> str:
    position = {"t": _utc(last.event_time).isoformat(), "i": last.id, "f": query.fingerprint()}
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(query: EventQuery, token: str) -> tuple[datetime, int]:
    """The position a token names; refused if malformed or made for other filters."""
    where = "/query/nextPageToken"
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = json.loads(raw)
        at = datetime.fromisoformat(position["t"]).astimezone(UTC)
        last_id = int(position["i"])
        fingerprint = str(position["f"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise QueryError(
            [FieldProblem(where, "expected a nextPageToken returned by this endpoint")]
        ) from None
    if fingerprint != query.fingerprint():
        raise QueryError([FieldProblem(where, "this token belongs to a query with other filters")])
    return at, last_id


def _utc(value: datetime) -> datetime:
    converted = utc(value)
    assert converted is not None
    return converted


def _cbv(kind: vocab.Kind, values: Sequence[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(vocab.normalise(kind, value))
        except vocab.VocabularyError:
            out.append(value)
    return out


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _epc_condition(values: Sequence[str], roles: Sequence[str]) -> Any:
    """Events naming any of ``values`` (identifiers or patterns) in one of ``roles``."""
    matches = []
    for value in values:
        canonical = gs1keys.canonical(value)
        if value.startswith("urn:epc:idpat:") or value.endswith("*"):
            prefix = canonical.rstrip("*").rstrip(".")
            matches.append(
                or_(
                    EpcisEventEpc.canonical == prefix,
                    EpcisEventEpc.canonical.like(_like_escape(prefix) + "/%", escape="\\"),
                )
            )
        else:
            matches.append(EpcisEventEpc.canonical == canonical)
    return exists().where(
        EpcisEventEpc.event_pk == EpcisEvent.id,
        EpcisEventEpc.is_class.is_(False),
        EpcisEventEpc.role.in_(roles),
        or_(*matches),
    )


def statement(query: EventQuery) -> Select[EpcisEvent]:
    """The SELECT for one page (one more row than the page, to know if another follows)."""
    stmt = select(EpcisEvent)
    if query.event_types:
        stmt = stmt.where(EpcisEvent.type.in_(query.event_types))
    if query.biz_steps:
        stmt = stmt.where(EpcisEvent.biz_step.in_(_cbv(vocab.BIZ_STEP, query.biz_steps)))
    if query.dispositions:
        stmt = stmt.where(EpcisEvent.disposition.in_(_cbv(vocab.DISPOSITION, query.dispositions)))
    if query.biz_locations:
        stmt = stmt.where(EpcisEvent.biz_location.in_(query.biz_locations))
    if query.match_epc:
        stmt = stmt.where(_epc_condition(query.match_epc, EPC_ROLES))
    if query.match_any_epc:
        stmt = stmt.where(_epc_condition(query.match_any_epc, ANY_EPC_ROLES))
    if query.ge_event_time is not None:
        stmt = stmt.where(EpcisEvent.event_time >= query.ge_event_time)
    if query.lt_event_time is not None:
        stmt = stmt.where(EpcisEvent.event_time < query.lt_event_time)
    if query.after is not None:
        at, last_id = query.after
        stmt = stmt.where(
            or_(
                EpcisEvent.event_time > at,
                and_(EpcisEvent.event_time == at, EpcisEvent.id > last_id),
            )
        )
    return stmt.order_by(EpcisEvent.event_time, EpcisEvent.id).limit(query.per_page + 1)


def run(session: Session, query: EventQuery) -> tuple[list[EpcisEvent], str | None]:
    """One page of matching events and the token of the next page (None on the last)."""
    rows = list(session.scalars(statement(query)))
    if len(rows) <= query.per_page:
        return rows, None
    page = rows[: query.per_page]
    return page, encode_token(query, page[-1])


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


def lot_events(session: Session, lot: str, gtin: str | None = None) -> list[EpcisEvent]:
    """Every event naming the lot (by lgtin class or Digital Link ``/10/{lot}``), in time
    order.

    The event ids come from the (lot, gtin, event_pk) index and the events by primary key:
    a correlated EXISTS here let SQLite walk every event in time order instead."""
    naming = select(EpcisEventEpc.event_pk).where(EpcisEventEpc.lot == lot)
    if gtin is not None:
        naming = naming.where(EpcisEventEpc.gtin == gtin.zfill(14))
    stmt = (
        select(EpcisEvent)
        .where(EpcisEvent.id.in_(naming))
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
    )
    return list(session.scalars(stmt))


def stored_event(row: EpcisEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(row.body)
    return loaded


def _document_context(rows: Sequence[EpcisEvent]) -> list[Any]:
    """The standard context plus every namespace prefix the events bring with them."""
    extra: dict[str, Any] = {}
    for row in rows:
        context = stored_event(row).get("@context")
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                extra.update(item)
    return [CONTEXT_URLS[0], extra] if extra else [CONTEXT_URLS[0]]


def query_document(rows: Sequence[EpcisEvent]) -> dict[str, Any]:
    """An EPCISQueryDocument holding ``rows`` as stored (SimpleEventQuery results)."""
    return {
        "@context": _document_context(rows),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {
            "queryResults": {
                "queryName": "SimpleEventQuery",
                "resultsBody": {"eventList": [stored_event(r) for r in rows]},
            }
        },
    }


def epcis_document(rows: Sequence[EpcisEvent]) -> dict[str, Any]:
    """An EPCISDocument holding ``rows`` as stored (a lot's export)."""
    return {
        "@context": _document_context(rows),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {"eventList": [stored_event(r) for r in rows]},
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
