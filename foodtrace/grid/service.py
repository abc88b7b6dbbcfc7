"""Projecting grids and their businesses, and reading them back for the workbench."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from foodtrace.auth import Role
from foodtrace.grading.current import current
from foodtrace.grading.planning import last_visits
from foodtrace.grid.models import Grid, GridMember
from foodtrace.grid.schemas import AssignBody, GridBody, GridBusinessOut, GridOut
from foodtrace.inspection.rules import dynamic_face
from foodtrace.inspection.schemas import InspectionResult
from foodtrace.party.models import Party
from foodtrace.record.registry import ProjectionError, register_type
from foodtrace.store.keyset import ascending
from foodtrace.trace.entry import Entry

DEFINE_TYPE = "grid.define"
ASSIGN_TYPE = "grid.assign"
OWNER_KINDS = {
    "officer": frozenset({"inspector"}),
    "grid_worker": frozenset({"inspector"}),
    "station_head": frozenset({"inspector", "regulator"}),
}
NOT_BUSINESSES = frozenset({"inspector", "regulator", "lab"})


def project_define(session: Session, index: int, entry: Entry) -> None:
    body = GridBody.model_validate(entry.body)
    problems = []
    for field, kinds in OWNER_KINDS.items():
        pid = getattr(body, field)
        party = session.get(Party, pid)
        if party is None:
            problems.append((field, f"party {pid} is not registered"))
        elif party.kind not in kinds:
            problems.append((field, f"expected a party of kind {' or '.join(sorted(kinds))}"))
    if body.officer == body.grid_worker:
        problems.append(("grid_worker", "expected someone other than the officer (所社联动)"))
    if problems:
        raise ProjectionError(422, problems)
    row = session.get(Grid, body.grid_id)
    if row is None:
        row = Grid(grid_id=body.grid_id)
        session.add(row)
    row.name, row.station = body.name, body.station
    row.officer, row.grid_worker, row.station_head = (
        body.officer,
        body.grid_worker,
        body.station_head,
    )
    row.entry_index = index
    session.flush()


def project_assign(session: Session, index: int, entry: Entry) -> None:
    body = AssignBody.model_validate(entry.body)
    if session.get(Grid, body.grid_id) is None:
        raise ProjectionError(422, [("grid_id", f"no grid {body.grid_id} is defined")])
    problems = []
    for k, pid in enumerate(body.party_ids):
        party = session.get(Party, pid)
        if party is None:
            problems.append((f"party_ids.{k}", f"party {pid} is not registered"))
        elif party.kind in NOT_BUSINESSES:
            problems.append((f"party_ids.{k}", f"expected a business, {pid} is a {party.kind}"))
    if problems:
        raise ProjectionError(422, problems)
    for pid in body.party_ids:
        member = session.get(GridMember, pid)
        if member is None:
            session.add(GridMember(party_id=pid, grid_id=body.grid_id, entry_index=index))
        else:
            member.grid_id, member.entry_index = body.grid_id, index
    session.flush()


register_type(DEFINE_TYPE, roles=frozenset({Role.REGULATOR}), project=project_define, body=GridBody)
register_type(
    ASSIGN_TYPE, roles=frozenset({Role.REGULATOR}), project=project_assign, body=AssignBody
)


# --- reads ----------------------------------------------------------------------------------


def grid_of(session: Session, party_id: str) -> Grid | None:
    """The grid a business is in, if any."""
    member = session.get(GridMember, party_id)
    return session.get(Grid, member.grid_id) if member is not None else None


def members(
    session: Session, grid_id: str, *, after: str | None = None, limit: int | None = None
) -> list[str]:
    """A grid's businesses by party id; ``after``/``limit``: one keyset page."""
    stmt = select(GridMember.party_id).where(GridMember.grid_id == grid_id)
    return list(session.scalars(ascending(stmt, GridMember.party_id, after, limit)))


def members_of(session: Session, grid_ids: Collection[str]) -> list[str]:
    """The businesses of these grids (one query)."""
    return list(
        session.scalars(
            select(GridMember.party_id)
            .where(GridMember.grid_id.in_(list(grid_ids)))
            .order_by(GridMember.party_id)
        )
    )


def list_grids(
    session: Session,
    *,
    person: str | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> list[GridOut]:
    """Every grid, or those ``person`` is officer, grid worker or station head of, by grid
    id; ``after``/``limit``: one keyset page (the API's)."""
    query = select(Grid)
    if person is not None:
        query = query.where(
            (Grid.officer == person) | (Grid.grid_worker == person) | (Grid.station_head == person)
        )
    found = list(session.scalars(ascending(query, Grid.grid_id, after, limit)))
    counts = dict(  # counted for the grids listed only (a person's one or two)
        session.execute(
            select(GridMember.grid_id, func.count())
            .where(GridMember.grid_id.in_([g.grid_id for g in found]))
            .group_by(GridMember.grid_id)
        ).all()
    )
    return [
        GridOut(
            grid_id=g.grid_id,
            name=g.name,
            station=g.station,
            officer=g.officer,
            grid_worker=g.grid_worker,
            station_head=g.station_head,
            businesses=counts.get(g.grid_id, 0),
            entry_index=g.entry_index,
        )
        for g in found
    ]


class GridRef(NamedTuple):
    """A grid as the workbench's pages name it."""

    grid_id: str
    name: str
    station: str


def grid_refs(session: Session, *, person: str | None = None) -> list[GridRef]:
    """Every grid, or those ``person`` is officer, grid worker or station head of, by id:
    one statement, without the member counts :func:`list_grids` adds."""
    query = _grid_refs(person is not None)
    rows = session.connection().execute(query, {} if person is None else {"person": person})
    return [GridRef(*row) for row in rows]


@cache
def _grid_refs(of_person: bool) -> Select[str, str, str]:
    query = select(Grid.grid_id, Grid.name, Grid.station).order_by(Grid.grid_id)
    if of_person:
        query = query.where(
            (Grid.officer == bindparam("person"))
            | (Grid.grid_worker == bindparam("person"))
            | (Grid.station_head == bindparam("person"))
        )
    return query


def get_grid(session: Session, grid_id: str) -> GridOut | None:
    return next((g for g in list_grids(session) if g.grid_id == grid_id), None)


def businesses(
    session: Session,
    grid_id: str,
    today: date,
    *,
    after: str | None = None,
    limit: int | None = None,
) -> list[GridBusinessOut]:
    """A grid's businesses with their current grade and latest visit's face (the
    inspector's "my grid" list), by party id; ``after``/``limit``: one keyset page (the
    API's), grades and visits read for that page only."""
    ids = members(session, grid_id, after=after, limit=limit)
    grades = current(session, today, ids)
    last = {pid: (on, result) for pid, on, result, _ in last_visits(session, today, ids)}
    parties = {
        pid: (name, kind)
        for pid, name, kind in session.execute(
            select(Party.party_id, Party.name, Party.kind).where(Party.party_id.in_(ids))
        )
    }
    out = []
    for pid in ids:
        name, kind = parties[pid]
        g = grades.get(pid)
        visit = last.get(pid)
        out.append(
            GridBusinessOut(
                party_id=pid,
                name=name,
                kind=kind,
                grade=g.grade.value if g is not None else None,
                face=dynamic_face(InspectionResult(visit[1])).value if visit else None,
                last_inspected_on=visit[0] if visit else None,
            )
        )
    return out
