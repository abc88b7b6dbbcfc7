"""Alerts per grid and per business, and climbing the ladder: projecting ``alert.escalate``
entries and writing them.

:func:`escalate` is run by an inspector or regulator (``POST /api/v1/alerts/escalations``)
or a periodic job: for each business with open alerts it asks :func:`rules.next_step` and
logs, as one group signed by the platform, the steps due. The business reads its own alerts
and steps at ``GET /api/v1/parties/{party_id}/alerts``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from foodtrace.alert import gather, rules
from foodtrace.alert.models import AlertEscalation
from foodtrace.alert.rules import Alert, Kind, Step
from foodtrace.alert.schemas import AlertOut, EscalateBody, EscalationOut, PartyAlertsOut
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.grid.models import GridMember
from foodtrace.party.models import Party
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.registry import ProjectionError, missing, register_type
from foodtrace.record.service import submit
from foodtrace.store.authors import utc
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

ESCALATE_TYPE = "alert.escalate"
SessionFactory = Callable[[], Session]


def project_escalate(session: Session, index: int, entry: Entry) -> None:
    body = EscalateBody.model_validate(entry.body)
    if entry.author != Settings().platform_author:
        raise ProjectionError(403, [("", "ladder steps are written by the platform")])
    if session.get(Party, body.party_id) is None:
        raise missing("party_id", f"party {body.party_id} is not registered")
    session.add(
        AlertEscalation(
            entry_index=index,
            party_id=body.party_id,
            step=body.step.value,
            kinds=[k.value for k in body.kinds],
            at=body.at,
        )
    )
    session.flush()


register_type(
    ESCALATE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_escalate, body=EscalateBody
)


@cache
def _members(by: str | None) -> Any:
    query = select(GridMember.party_id, GridMember.grid_id)
    if by is not None:
        query = query.where(getattr(GridMember, by).in_(bindparam("ids", expanding=True)))
    return query


def _grids(session: Session, by: str, ids: Collection[str] | None) -> dict[str, str]:
    """Grid by business, of the members whose ``by`` column (``grid_id`` or ``party_id``) is
    in ``ids`` (all when None)."""
    query = _members(None if ids is None else by)
    rows = session.connection().execute(query, {} if ids is None else {"ids": list(ids)})
    return dict(rows.all())


def _out(a: Alert, grids: dict[str, str]) -> AlertOut:
    return AlertOut(
        kind=a.kind,
        party_id=a.party_id,
        grid_id=grids.get(a.party_id) if a.party_id else None,
        subject=a.subject,
        detail=a.detail,
        since=a.since,
    )


AlertKey = tuple[int, str, str, str, str]
"""An alert's place in the list (:func:`foodtrace.alert.gather.order_key`): a page's cursor."""


def list_alerts(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    grid_id: str | None = None,
    grid_ids: Collection[str] | None = None,
    party_id: str | None = None,
    kinds: set[Kind] | None = None,
    inspections: gather.InspectionAlerts = gather.inspection_alerts,
    after: AlertKey | None = None,
    limit: int | None = None,
) -> list[AlertOut]:
    """Every open alert, or those of one grid's (or some grids') businesses, one business,
    some kinds. A grid or a business narrows every source's query, not the answer only.
    ``after``/``limit``: one keyset page (the API's), the alerts after that place in the
    list: sources that can give none are not read, nor those after a full page's, and
    alerts equal in every field are listed once (a cursor could not tell them apart)."""
    wanted = set(grid_ids or ()) | ({grid_id} if grid_id is not None else set())
    by_grid = bool(wanted) or grid_ids is not None
    # the grids' businesses and their grid in one query
    grids = _grids(session, "grid_id", sorted(wanted)) if by_grid else {}
    parties: list[str] | None = sorted(grids) if by_grid else None
    if party_id is not None:
        parties = [party_id] if parties is None or party_id in parties else []
    if not by_grid:
        grids = _grids(session, "party_id", parties)

    def listed(a: Alert) -> bool:
        return (kinds is None or a.kind in kinds) and (after is None or gather.order_key(a) > after)

    def enough(final: list[Alert]) -> bool:
        return limit is not None and len({gather.order_key(a) for a in final if listed(a)}) >= limit

    found = gather.alerts(
        session,
        settings,
        now,
        parties,
        inspections,
        kinds=kinds,
        from_rank=0 if after is None else after[0],
        enough=enough if limit is not None else None,
    )
    out: list[AlertOut] = []
    last: AlertKey | None = None
    for a in found:
        key = gather.order_key(a)
        if not listed(a) or key == last:
            continue
        last = key
        out.append(_out(a, grids))
        if limit is not None and len(out) == limit:
            break
    return out


def escalation_out(row: AlertEscalation) -> EscalationOut:
    at = utc(row.at)
    assert at is not None
    return EscalationOut(
        entry_index=row.entry_index,
        party_id=row.party_id,
        step=Step(row.step),
        kinds=[Kind(k) for k in row.kinds],
        at=at,
    )


def party_alerts(
    session: Session, settings: Settings, party_id: str, now: datetime
) -> PartyAlertsOut:
    rows = session.scalars(
        select(AlertEscalation)
        .where(AlertEscalation.party_id == party_id)
        .order_by(AlertEscalation.entry_index)
    )
    return PartyAlertsOut(
        party_id=party_id,
        alerts=list_alerts(session, settings, now, party_id=party_id),
        escalations=[escalation_out(r) for r in rows],
    )


def _last_steps(session: Session) -> dict[str, tuple[Step, datetime]]:
    last: dict[str, tuple[Step, datetime]] = {}
    for row in session.scalars(select(AlertEscalation).order_by(AlertEscalation.entry_index)):
        at = utc(row.at)
        assert at is not None
        last[row.party_id] = (Step(row.step), at)
    return last


def escalate(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    now: datetime | None = None,
) -> list[EscalationOut]:
    """Log the ladder steps due at ``now`` (one group; none if no step is due)."""
    now = now or datetime.now(UTC)
    with session_factory() as session:
        open_kinds: dict[str, set[Kind]] = defaultdict(set)
        for a in gather.alerts(session, settings, now):
            if a.party_id is not None:
                open_kinds[a.party_id].add(a.kind)
        last = _last_steps(session)
        registered = set(session.scalars(select(Party.party_id)))
    due = []
    for pid in sorted(open_kinds.keys() & registered):
        step = rules.next_step(last.get(pid), len(open_kinds[pid]), now)
        if step is not None:
            kinds = sorted(open_kinds[pid], key=list(Kind).index)
            due.append(EscalateBody(party_id=pid, step=step, kinds=kinds, at=now))
    if not due:
        return []
    key = platform_key(settings)
    with session_factory() as session, session.begin():
        ensure_platform_author(session, settings.platform_author, key)
    entries = [
        entry_mod.sign(
            key, type=ESCALATE_TYPE, author=settings.platform_author, body=b.model_dump(mode="json")
        )
        for b in due
    ]
    platform = Principal(settings.platform_author, Role.REGULATOR, token_id=0)
    refs = submit(log, session_factory, platform, entries)
    return [
        EscalationOut(entry_index=r.index, party_id=b.party_id, step=b.step, kinds=b.kinds, at=now)
        for b, r in zip(due, refs, strict=True)
    ]
