"""Projecting the recall entries, and reading a case with its clocks and progress.

Who may write what is decided here and in the registry: ``recall.open`` by a regulator
(责令召回) or by the producer of the recalled product (主动召回); ``recall.ack`` and
``recall.report`` only by a party the case names as affected; ``recall.close`` by a
regulator only. A refusal is a :class:`ProjectionError`, so the whole request is refused
and nothing of it is stored.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.config import Settings
from foodtrace.epcis.models import EpcisEvent
from foodtrace.party.models import Party
from foodtrace.product.models import Lot, Product
from foodtrace.recall import clocks
from foodtrace.recall.models import Recall, RecallLot, RecallParty
from foodtrace.recall.schemas import (
    LEVEL_LABELS,
    AckBody,
    CloseBody,
    Kind,
    OpenBody,
    PartyProgressOut,
    ProgressOut,
    RecallOut,
    ReportBody,
    Scope,
)
from foodtrace.record.registry import ProjectionError, conflict, missing, register_type
from foodtrace.store.authors import utc
from foodtrace.trace.entry import Entry

OPEN_TYPE = "recall.open"
ACK_TYPE = "recall.ack"
REPORT_TYPE = "recall.report"
CLOSE_TYPE = "recall.close"
INITIATORS = frozenset({Role.PRODUCER, Role.REGULATOR})
AFFECTED = frozenset({Role.PRODUCER})  # every supply-chain party writes as a producer


def forbidden(field: str, detail: str) -> ProjectionError:
    return ProjectionError(403, [(field, detail)])


def calendar(settings: Settings) -> clocks.WorkCalendar:
    return clocks.WorkCalendar.of(settings.recall_holidays, settings.recall_workdays)


def _case(session: Session, recall_id: str) -> Recall:
    row = session.get(Recall, recall_id)
    if row is None:
        raise missing("recall_id", f"no recall {recall_id} is recorded")
    return row


def _open_case(session: Session, recall_id: str) -> Recall:
    row = _case(session, recall_id)
    if row.closed_at is not None:
        raise conflict("recall_id", f"recall {recall_id} was closed by {row.closed_by}")
    return row


def _affected(session: Session, recall_id: str, author: str) -> RecallParty:
    row = session.get(RecallParty, (recall_id, author))
    if row is None:
        raise forbidden("recall_id", f"{author} is not an affected party of recall {recall_id}")
    return row


def _units(text: str) -> dict[str, float]:
    loaded: dict[str, float] = json.loads(text)
    return loaded


def _dump(units: Mapping[str, float]) -> str:
    return json.dumps(dict(sorted(units.items())), ensure_ascii=False)


def received_units(received: list[dict[str, Any]]) -> dict[str, float]:
    """A trace party's ``received`` list as ``{uom: quantity}`` (``""`` for no unit)."""
    out: dict[str, float] = {}
    for item in received:
        unit = str(item.get("uom") or "")
        out[unit] = out.get(unit, 0.0) + float(item.get("quantity") or 0.0)
    return out


def initiator_refusal(
    session: Session, author: str, gtin: str, kind: Kind
) -> ProjectionError | None:
    """Why ``author`` may not open a ``kind`` recall of ``gtin`` (None if it may): a
    regulator orders recalls, the product's producer recalls voluntarily, nobody else."""
    party = session.get(Party, author)
    if party is not None and party.kind == "regulator":
        if kind is not Kind.ORDERED:
            return missing("kind", "a regulator's recall is ordered (责令召回)")
        return None
    product = session.get(Product, gtin)
    if product is None or product.producer != author:
        owner = product.producer if product else "nobody"
        return forbidden(
            "gtin", f"only the producer of {gtin} ({owner}) or a regulator may recall it"
        )
    if kind is not Kind.VOLUNTARY:
        return missing("kind", "a producer's own recall is voluntary (主动召回)")
    return None


# --- projections ------------------------------------------------------------------------------


def project_open(session: Session, index: int, entry: Entry) -> None:
    body = OpenBody.model_validate(entry.body)
    if session.get(Recall, body.recall_id) is not None:
        raise conflict("recall_id", f"recall {body.recall_id} is already recorded")
    if session.get(Lot, (body.gtin, body.lot_code)) is None:
        raise missing("lot_code", f"lot {body.lot_code} of {body.gtin} is not recorded")
    refusal = initiator_refusal(session, entry.author, body.gtin, body.kind)
    if refusal is not None:
        raise refusal
    from foodtrace.recall.flows import verify_scope

    verify_scope(session, body)
    session.add(
        Recall(
            recall_id=body.recall_id,
            gtin=body.gtin,
            lot_code=body.lot_code,
            level=body.level,
            reason=body.reason,
            kind=body.kind.value,
            initiator=entry.author,
            opened_at=entry.issued_datetime(),
            entry_index=index,
            scope=body.scope.model_dump_json(),
        )
    )
    session.flush()
    for i, lot in enumerate(body.scope.lots):
        event = session.scalar(
            select(EpcisEvent).where(
                EpcisEvent.hash_id == lot.event_hash_id, EpcisEvent.declares_error.is_(False)
            )
        )
        if event is None or event.disposition != "recalled":
            raise missing(
                f"scope.lots.{i}.event_hash_id",
                f"expected a recalled EPCIS event for lot {lot.lot_code} in the same request",
            )
        session.add(
            RecallLot(
                recall_id=body.recall_id,
                gtin=lot.gtin,
                lot_code=lot.lot_code,
                holder=lot.holder,
                event_hash_id=lot.event_hash_id,
                event_entry_index=event.entry_index,
            )
        )
    for party in body.scope.parties:
        session.add(
            RecallParty(
                recall_id=body.recall_id,
                party_id=party.party_id,
                received=_dump(received_units(party.received)),
                recovered="{}",
                destroyed="{}",
                reports=0,
            )
        )
    session.flush()


def project_ack(session: Session, index: int, entry: Entry) -> None:
    body = AckBody.model_validate(entry.body)
    _open_case(session, body.recall_id)
    row = _affected(session, body.recall_id, entry.author)
    if row.acknowledged_at is not None:
        raise conflict("recall_id", f"{entry.author} already acknowledged {body.recall_id}")
    row.acknowledged_at = entry.issued_datetime()
    row.ack_entry_index = index
    session.flush()


def project_report(session: Session, index: int, entry: Entry) -> None:
    body = ReportBody.model_validate(entry.body)
    _open_case(session, body.recall_id)
    row = _affected(session, body.recall_id, entry.author)
    if row.acknowledged_at is None:
        raise conflict("recall_id", f"{entry.author} must acknowledge {body.recall_id} first")
    if row.finished_at is not None:
        raise conflict("final", f"{entry.author} already sent its final report")
    lots = {
        (r.gtin, r.lot_code)
        for r in session.scalars(select(RecallLot).where(RecallLot.recall_id == body.recall_id))
    }
    received = _units(row.received)
    recovered, destroyed = _units(row.recovered), _units(row.destroyed)
    problems = []
    for i, item in enumerate(body.items):
        if (item.gtin, item.lot_code) not in lots:
            problems.append(
                (f"items.{i}.lot_code", f"lot {item.lot_code} of {item.gtin} is not recalled")
            )
            continue
        unit = item.uom
        if unit is None:
            if len(received) != 1:
                problems.append((f"items.{i}.uom", f"expected one of {sorted(received)}"))
                continue
            unit = next(iter(received))
        recovered[unit] = recovered.get(unit, 0.0) + item.recovered
        destroyed[unit] = destroyed.get(unit, 0.0) + item.destroyed
    if problems:
        raise ProjectionError(422, problems)
    row.recovered, row.destroyed = _dump(recovered), _dump(destroyed)
    row.reports += 1
    row.last_report_entry_index = index
    if body.final:
        row.finished_at = entry.issued_datetime()
    session.flush()


def project_close(session: Session, index: int, entry: Entry) -> None:
    body = CloseBody.model_validate(entry.body)
    row = _open_case(session, body.recall_id)
    row.closed_at = entry.issued_datetime()
    row.closed_by = entry.author
    row.close_note = body.note
    row.close_entry_index = index
    session.flush()


register_type(OPEN_TYPE, roles=INITIATORS, project=project_open, body=OpenBody)
register_type(ACK_TYPE, roles=AFFECTED, project=project_ack, body=AckBody)
register_type(REPORT_TYPE, roles=AFFECTED, project=project_report, body=ReportBody)
register_type(CLOSE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_close, body=CloseBody)


# --- reads ------------------------------------------------------------------------------------


def case_out(session: Session, row: Recall, now: datetime, work: clocks.WorkCalendar) -> RecallOut:
    parties = list(
        session.scalars(
            select(RecallParty)
            .where(RecallParty.recall_id == row.recall_id)
            .order_by(RecallParty.party_id)
        )
    )
    names = dict(
        session.execute(
            select(Party.party_id, Party.name).where(
                Party.party_id.in_([p.party_id for p in parties])
            )
        ).all()
    )
    opened = utc(row.opened_at)
    assert opened is not None
    states = [
        clocks.PartyState(
            p.party_id,
            _units(p.received),
            utc(p.acknowledged_at),
            _units(p.recovered),
            _units(p.destroyed),
            utc(p.finished_at),
        )
        for p in parties
    ]
    level = clocks.Level(row.level)
    progress = clocks.progress(level, opened, states, now, work, utc(row.closed_at))
    per = {p.party_id: p for p in progress.per_party}
    return RecallOut(
        id=row.recall_id,
        gtin=row.gtin,
        lot_code=row.lot_code,
        level=row.level,
        level_label=LEVEL_LABELS[row.level],
        reason=row.reason,
        kind=Kind(row.kind),
        initiator=row.initiator,
        status="closed" if row.closed_at is not None else "open",
        opened_at=opened,
        start_due=progress.deadlines.start_due,
        done_due=progress.deadlines.done_due,
        overdue=progress.overdue,
        closed_at=utc(row.closed_at),
        closed_by=row.closed_by,
        close_note=row.close_note,
        scope=Scope.model_validate_json(row.scope),
        progress=ProgressOut(
            acknowledged=progress.acknowledged,
            parties=progress.parties,
            acknowledged_pct=progress.acknowledged_pct,
            recovered=progress.recovered,
            shipped=progress.shipped,
            overdue_parties=progress.overdue_parties,
        ),
        parties=[
            PartyProgressOut(
                party_id=s.party_id,
                name=names.get(s.party_id),
                received=dict(s.shipped),
                recovered=dict(s.recovered),
                destroyed=dict(s.destroyed),
                acknowledged_at=s.acknowledged_at,
                finished_at=s.finished_at,
                start_overdue=per[s.party_id].start_overdue,
                done_overdue=per[s.party_id].done_overdue,
            )
            for s in states
        ],
        entry_index=row.entry_index,
        close_entry_index=row.close_entry_index,
    )


def get_case(
    session: Session, recall_id: str, now: datetime, work: clocks.WorkCalendar
) -> RecallOut | None:
    row = session.get(Recall, recall_id)
    return case_out(session, row, now, work) if row else None


def list_cases(
    session: Session,
    now: datetime,
    work: clocks.WorkCalendar,
    *,
    open_only: bool = False,
    limit: int = 100,
    before: tuple[datetime, str] | None = None,
    party_ids: Collection[str] | None = None,
) -> list[RecallOut]:
    """Newest first; ``before``: the (opened_at, recall_id) the previous page ended with;
    ``party_ids``: only the cases that name one of these parties as affected."""
    query = select(Recall).order_by(Recall.opened_at.desc(), Recall.recall_id.desc()).limit(limit)
    if before is not None:
        at, rid = before
        query = query.where(
            (Recall.opened_at < at) | ((Recall.opened_at == at) & (Recall.recall_id < rid))
        )
    if open_only:
        query = query.where(Recall.closed_at.is_(None))
    params = {}
    if party_ids is not None:  # one expanding parameter: a grid's ids are not coerced one by one
        named = select(RecallParty.recall_id).where(
            RecallParty.party_id.in_(bindparam("party_ids", expanding=True))
        )
        query = query.where(Recall.recall_id.in_(named))
        params["party_ids"] = list(party_ids)
    return [case_out(session, r, now, work) for r in session.scalars(query, params)]


def lot_recalls(session: Session, gtin: str, lot_code: str) -> list[Recall]:
    """Cases that name the lot as affected, newest first (for the banner)."""
    ids = select(RecallLot.recall_id).where(
        RecallLot.gtin == gtin.zfill(14), RecallLot.lot_code == lot_code
    )
    return list(
        session.scalars(
            select(Recall).where(Recall.recall_id.in_(ids)).order_by(Recall.opened_at.desc())
        )
    )


def party_recalls(session: Session, party_id: str) -> list[Recall]:
    """Open cases that name the party as affected or as holder of an affected lot."""
    affected = select(RecallParty.recall_id).where(RecallParty.party_id == party_id)
    holding = select(RecallLot.recall_id).where(RecallLot.holder == party_id)
    return list(
        session.scalars(
            select(Recall)
            .where(Recall.recall_id.in_(affected.union(holding)), Recall.closed_at.is_(None))
            .order_by(Recall.opened_at.desc())
        )
    )
