"""Seeding the demo city (:mod:`foodtrace.demo.citycast`) through the write path the API
uses (:func:`foodtrace.record.service.submit`: the same checks, signatures and projections)
in batches of signed entries, and through the complaint services the API's routes call.

Staff are registered with the server-held custodial key the workbench signs with and a
seeding key used only here; businesses with a key of their own, which signs their
acknowledgements (双签) of a year of visits. Then the grades are computed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from foodtrace.auth.models import Principal, Role, role_for_party_kind
from foodtrace.complaint import owners
from foodtrace.complaint import service as complaints
from foodtrace.complaint.schemas import Category, ComplaintIn, Stage
from foodtrace.config import Settings
from foodtrace.demo.citycast import DISTRICT, ISSUER, STATION, City, city
from foodtrace.demo.seeding import Api
from foodtrace.grading import flows as grading
from foodtrace.record.service import RecordRef, submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry

BATCH = 200
SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class SeededCity:
    city: City
    inspector_tokens: dict[str, str]  # "name party-id" → token (first grid's officer, worker)
    grades: int


class _Writer:
    def __init__(self, log: MerkleLog, sessions: SessionFactory) -> None:
        self.log, self.sessions = log, sessions
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.roles: dict[str, Role] = {}

    def entry(self, author: str, type: str, body: dict[str, Any]) -> Entry:
        return entry_mod.sign(self.keys[author], type=type, author=author, body=body)

    def submit(self, entries: Sequence[Entry]) -> list[RecordRef]:
        refs: list[RecordRef] = []
        for start in range(0, len(entries), BATCH):
            group = entries[start : start + BATCH]
            who = [Principal(e.author, self.roles[e.author], 0) for e in group]
            refs += submit(self.log, self.sessions, who[0], group, principals=who)
        return refs


def seed_city(
    api: Api,
    log: MerkleLog,
    sessions: SessionFactory,
    settings: Settings,
    regulator: str,
    regulator_key: Ed25519PrivateKey,
    today: date,
) -> SeededCity:
    """Write the city; its staff's workbench tokens come from the API as a regulator's."""
    c = city(today)
    w = _Writer(log, sessions)
    w.keys[regulator], w.roles[regulator] = regulator_key, Role.REGULATOR

    registrations = []
    for person in c.staff:
        held = api.post("regulator", "/api/v1/custodial-keys", json={"party_id": person.party_id})
        w.keys[person.party_id], w.roles[person.party_id] = keys.generate(), Role.INSPECTOR
        body = {
            "party_id": person.party_id,
            "name": person.name,
            "kind": "inspector",
            "credit_code": person.party_id,
            "region": DISTRICT,
            "public_keys": [held["public_key"], keys.public_to_b64(w.keys[person.party_id])],
        }
        registrations.append(w.entry(regulator, "party.register", body))
    for b in c.businesses:
        w.keys[b.party_id], w.roles[b.party_id] = keys.generate(), role_for_party_kind(b.kind)
        body = {
            "party_id": b.party_id,
            "name": b.name,
            "kind": b.kind,
            "credit_code": b.party_id,
            "region": DISTRICT,
            "grid": b.grid_id,
            "address": b.address,
            "public_keys": [keys.public_to_b64(w.keys[b.party_id])],
        }
        registrations.append(w.entry(regulator, "party.register", body))
    w.submit(registrations)

    setup = [
        w.entry(
            regulator,
            "grid.define",
            {
                "grid_id": g.grid_id,
                "name": g.name,
                "station": STATION,
                "officer": g.officer.party_id,
                "grid_worker": g.worker.party_id,
                "station_head": g.head.party_id,
            },
        )
        for g in c.grids
    ]
    setup += [
        w.entry(
            regulator,
            "grid.assign",
            {
                "grid_id": g.grid_id,
                "party_ids": [b.party_id for b in c.businesses if b.grid_id == g.grid_id],
            },
        )
        for g in c.grids
    ]
    setup += [
        w.entry(
            regulator,
            "licence.issue",
            {
                "number": b.licence,
                "kind": b.licence_kind,
                "holder": b.party_id,
                "scope": b.scope,
                "issuer": ISSUER,
                "valid_from": b.valid_from.isoformat(),
                "valid_until": b.valid_until.isoformat(),
            },
        )
        for b in c.businesses
    ]
    w.submit(setup)

    visits = [
        w.entry(
            v.inspector,
            "inspection.record",
            {
                "party_id": v.party_id,
                "inspected_on": v.on.isoformat(),
                "result": v.result,
                "findings": [] if v.result == "合格" else ["冷藏温度记录不完整"],
                "checklist": [{"item": "许可证公示", "result": "符合"}],
            },
        )
        for v in c.visits
    ]
    refs = w.submit(visits)
    acks = [
        w.entry(
            v.party_id,
            "inspection.ack",
            {
                "inspection": ref.index,
                "party_id": v.party_id,
                "method": "key",
                "acknowledged_at": datetime.combine(v.on, datetime.min.time(), UTC).isoformat(),
            },
        )
        for v, ref in zip(c.visits, refs, strict=True)
        if v.acknowledged
    ]
    w.submit(acks)

    _complaints(w, log, sessions, settings, c)
    grades = grading.recompute(  # the city's only: the chain's parties keep their grades
        log, sessions, settings, as_of=today, only=[b.party_id for b in c.businesses]
    )
    first = c.grids[0]
    tokens = {}
    for person in (first.officer, first.worker):
        issued = api.post(
            "regulator",
            f"/api/v1/parties/{person.party_id}/tokens",
            json={"name": "demo workbench"},
        )
        tokens[f"{person.name} {person.party_id}"] = issued["token"]
    return SeededCity(c, tokens, grades.written)


def _complaints(
    w: _Writer, log: MerkleLog, sessions: SessionFactory, settings: Settings, c: City
) -> None:
    grid_of = {b.party_id: b.grid_id for b in c.businesses}
    grids = {g.grid_id: g for g in c.grids}
    confirmations = []
    rated: list[tuple[str, int]] = []
    for item in c.complaints:
        data = ComplaintIn(
            merchant_id=item.party_id,
            category=Category(item.category),
            description=item.description,
        )
        number = complaints.file_complaint(log, sessions, settings, data, now=item.received_at)
        if not item.answered:
            continue
        g = grids[grid_of[item.party_id]]
        for stage, after in ((Stage.RESPONSE, 20), (Stage.FEEDBACK, 600)):
            complaints.record_update(
                log,
                sessions,
                settings,
                number,
                stage,
                g.officer.party_id,
                "已到店核查并责令整改" if stage is Stage.FEEDBACK else "已联系商户",
                now=item.received_at + timedelta(minutes=after),
            )
        if item.closed:
            at = (item.received_at + timedelta(hours=12)).isoformat()
            for person, capacity in ((g.officer, "officer"), (g.worker, "grid_worker")):
                body = {"tracking_number": number, "capacity": capacity, "confirmed_at": at}
                confirmations.append(w.entry(person.party_id, owners.CONFIRM_TYPE, body))
            rated.append((number, item.rating))
    if confirmations:
        w.submit(confirmations)
    for number, rating in rated:
        owners.rate(log, sessions, settings, number, rating)
