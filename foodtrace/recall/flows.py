"""Opening a recall: the downstream blast radius from the trace, a ``recalled`` EPCIS event
per affected lot and the ``recall.open`` entry, appended as one atomic group.

The scope is the lot's downstream trace (:func:`foodtrace.provenance.service.trace`, never
a second traversal): every lot reached and every party that received any of it, with the
quantities it received. Each affected lot gets an ObjectEvent with disposition
``recalled``; it is signed by the initiator when the initiator holds the lot and otherwise
by the platform's own key acting as a regulator (the initiator cannot speak for stock other
parties hold; the platform records that the recall covers it). CBV 2.0 has no recalling
business step, so the event carries the custom step :data:`RECALLING`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

from sqlalchemy.orm import Session

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.epcis import service as epcis
from foodtrace.party.models import Party
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.product.models import Lot
from foodtrace.provenance.service import trace
from foodtrace.recall import service
from foodtrace.recall.schemas import Kind, OpenBody, RecallIn, Scope, ScopeLot, ScopeParty
from foodtrace.record.registry import conflict
from foodtrace.record.service import sign_custodial, submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry, now_rfc3339
from foodtrace.trace.epcis import gs1keys
from foodtrace.trace.provenance import Origin, TraceResult

RECALLING: Final = "urn:foodtrace:bizstep:recalling"
NAMESPACE: Final = {"foodtrace": "https://foodtrace.example/ns/epcis/"}
RECALL_ID_FIELD: Final = "foodtrace:recallID"
CONTEXT: Final = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", NAMESPACE]
ID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, as complaints

SessionFactory = Callable[[], Session]


def new_recall_id(year: int) -> str:
    value = secrets.randbits(40)
    chars = "".join(ID_ALPHABET[(value >> (5 * i)) & 31] for i in range(8))
    return f"RC-{year:04d}-{chars[:4]}-{chars[4:]}"


# --- the scope --------------------------------------------------------------------------------


def scope_of(result: TraceResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A downstream trace as a recall's lots and parties, in the trace's own JSON shapes:
    every lot reached (serials and logistic units are carried by their lots) and every
    party that received any of it."""
    lots = [
        lot.to_json()
        for lot in result.lots
        if lot.gtin is not None and lot.lot_code is not None and lot.kind == "lot"
    ]
    parties = [p.to_json() for p in result.parties if "received" in p.roles or p.received]
    return lots, parties


def downstream(session: Session, gtin: str, lot_code: str) -> TraceResult:
    return trace(session, Origin.lot(gtin, lot_code), direction="downstream")


def verify_scope(session: Session, body: OpenBody) -> None:
    """Refuse a ``recall.open`` whose scope is not the lot's downstream trace now (a
    client could otherwise leave affected lots or parties out of a case)."""
    lots, parties = scope_of(downstream(session, body.gtin, body.lot_code))
    want_lots = {(str(lot["gtin"]), str(lot["lot_code"])) for lot in lots}
    got_lots = {(lot.gtin, lot.lot_code) for lot in body.scope.lots}
    want_parties = {str(p["party_id"]) for p in parties}
    got_parties = {p.party_id for p in body.scope.parties}
    if want_lots != got_lots or want_parties != got_parties:
        missing = sorted(want_lots - got_lots) + sorted(want_parties - got_parties)
        extra = sorted(got_lots - want_lots) + sorted(got_parties - want_parties)
        raise conflict(
            "scope",
            f"the scope is not the lot's downstream trace: missing {missing}, extra {extra}",
        )


# --- the events -------------------------------------------------------------------------------


def recalled_event(
    recall_id: str, gtin: str, lot_code: str, gln: str | None, at: str
) -> epcis.PreparedEvent:
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": at,
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": RECALLING,
        "disposition": "recalled",
        "epcList": [],
        "quantityList": [
            {"epcClass": f"{gs1keys.CANONICAL_HOST}/01/{gtin}/10/{quote(lot_code, safe='')}"}
        ],
        RECALL_ID_FIELD: recall_id,
    }
    if gln:
        event["bizLocation"] = {"id": f"{gs1keys.CANONICAL_HOST}/414/{gln}"}
    document = {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": at,
        "epcisBody": {"eventList": [event]},
    }
    [prepared] = epcis.prepare(document, at)
    return prepared


def _refused(status: int, title: str, detail: str, pointer: str) -> Problem:
    return Problem(status, title, detail, problem_type("recall"), [FieldProblem(pointer, detail)])


def open_recall(
    log: MerkleLog,
    sessions: SessionFactory,
    settings: Settings,
    principal: Principal,
    data: RecallIn,
    now: datetime | None = None,
) -> str:
    """Open the case; its id. Raises :class:`Problem` and writes nothing when refused."""
    if principal.role not in service.INITIATORS:
        raise _refused(
            403,
            "Forbidden",
            f"the role {principal.role.value} may not open recalls; expected producer "
            "(voluntary) or regulator (ordered)",
            "/body",
        )
    kind = Kind.ORDERED if principal.role is Role.REGULATOR else Kind.VOLUNTARY
    now = now or datetime.now(UTC)
    recall_id = new_recall_id(now.year)
    at = now_rfc3339()
    platform = Principal(settings.platform_author, Role.REGULATOR, 0)
    entries: list[Entry] = []
    principals: list[Principal] = []
    with sessions() as session:
        if session.get(Lot, (data.gtin, data.lot_code)) is None:
            raise _refused(
                404, "Not Found", f"lot {data.lot_code} of {data.gtin} is not recorded", "/body"
            )
        refusal = service.initiator_refusal(session, principal.party_id, data.gtin, kind)
        if refusal is not None:  # refused before anything is signed or registered
            field, detail = refusal.problems[0]
            raise _refused(
                refusal.status, "Not allowed to open this recall", detail, f"/body/{field}"
            )
    pkey = platform_key(settings)
    with sessions() as session, session.begin():  # registered before it signs anything
        ensure_platform_author(session, settings.platform_author, pkey)
    with sessions() as session:
        lots, parties = scope_of(downstream(session, data.gtin, data.lot_code))
        glns = {
            p.party_id: p.gln
            for p in session.query(Party).filter(
                Party.party_id.in_([str(lot.get("holder")) for lot in lots])
            )
        }
        scope_lots = []
        for lot in lots:
            holder = lot.get("holder")
            holders = set(lot.get("holders") or []) | ({holder} if holder else set())
            prepared = recalled_event(
                recall_id, str(lot["gtin"]), str(lot["lot_code"]), glns.get(str(holder)), at
            )
            if principal.party_id in holders:
                entries.append(
                    sign_custodial(
                        session,
                        principal.party_id,
                        epcis.ENTRY_TYPE,
                        prepared.body(),
                        settings=settings,
                    )
                )
                principals.append(principal)
            else:
                entries.append(
                    entry_mod.sign(
                        pkey,
                        type=epcis.ENTRY_TYPE,
                        author=settings.platform_author,
                        body=prepared.body(),
                    )
                )
                principals.append(platform)
            scope_lots.append(ScopeLot.model_validate({**lot, "event_hash_id": prepared.hash_id}))
        body = OpenBody(
            recall_id=recall_id,
            gtin=data.gtin,
            lot_code=data.lot_code,
            level=data.level,
            reason=data.reason,
            kind=kind,
            scope=Scope(lots=scope_lots, parties=[ScopeParty.model_validate(p) for p in parties]),
        ).model_dump(mode="json", exclude_none=True)
        entries.append(
            sign_custodial(session, principal.party_id, service.OPEN_TYPE, body, settings=settings)
        )
        principals.append(principal)
    pointers = [f"/scope/lots/{i}" for i in range(len(entries) - 1)] + ["/body"]
    submit(log, sessions, principal, entries, where=pointers.__getitem__, principals=principals)
    return recall_id
