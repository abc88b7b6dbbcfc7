"""What the resolver shows for a code: checking the code, and assembling a page's data.

Reads only: the projection tables give what to show (fast, indexed); every shown value is a
:class:`~foodtrace.resolver.display.Fact` pointing into the log entry it came from, and
:func:`proofs` gathers, for those entries, everything the page's script needs to verify
them without trusting this server (leaf data, inclusion proofs, signed checkpoints, the
log's verifier key, the anchoring transaction).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from foodtrace.config import CODE_AUTHORITY_KEY_FILE, RESOLVE_BUILD_QUEUE, Settings
from foodtrace.epcis.models import EpcisEvent, EpcisEventEpc
from foodtrace.epcis.query import lot_events
from foodtrace.grading.schemas import GradeKind, GradeRecordOut
from foodtrace.grading.service import current_grade
from foodtrace.health.models import HealthCertificate, PersonalData
from foodtrace.inspection.models import Inspection
from foodtrace.masterdata import service as masterdata
from foodtrace.masterdata.service import SiteView
from foodtrace.party.models import Licence, Party
from foodtrace.party.status import licence_status
from foodtrace.product.models import Lot, Product
from foodtrace.report.models import Report
from foodtrace.resolver.chart import Reading, excursions, temperature_svg
from foodtrace.resolver.display import CST, FORMATS, LICENCE_STATUS_ZH, Fact, fact, show_time
from foodtrace.store.log import MerkleLog, SignedCheckpoint
from foodtrace.store.models import LogEntry
from foodtrace.trace import keys, personal
from foodtrace.trace.codes import Code, CodeError, Subject, parse_code, verify_code
from foodtrace.trace.errors import SignatureError
from foodtrace.trace.merkle import Node, inclusion_nodes, inclusion_proof

EMBEDDED_CHAIN_NOTE: Final = (
    "本页核对的区块链由本服务器自己内置运行，仅供试用；要做到独立验证，需要一条运营方无法控制的链。"
)
AUTHORITY_KEY_FILE: Final = CODE_AUTHORITY_KEY_FILE  # under data_dir unless configured
LATEST_INSPECTIONS: Final = 3
MAX_INPUT_DEPTH: Final = 6  # how far back through transformation inputs a lot page looks
INPUT_ROLES: Final = ("inputQuantityList", "inputEPCList")
OUTPUT_ROLES: Final = ("outputQuantityList", "outputEPCList")
RECALLED: Final = "recalled"
FACES: Final = {"合格": "laugh", "基本合格": "smile", "不合格": "flat"}
FACE_ZH: Final = {"laugh": "大笑", "smile": "微笑", "flat": "平脸"}
ANCHOR_SELECTOR: Final = "0x8c0d6778"  # keccak256("anchorAt(bytes32,uint64)")[:4]
LOG_KEY_SELECTOR: Final = "0x9d21e627"  # keccak256("logKeyHash(bytes32)")[:4]


class ResolverSettings(BaseSettings):
    """Resolver tuning from ``FOODTRACE_*`` (kept here: the shared Settings stay small)."""

    model_config = SettingsConfigDict(env_prefix="FOODTRACE_", env_file=".env", extra="ignore")

    cold_chain_min_c: float = 0.0
    cold_chain_max_c: float = 8.0
    # A resolved page is reused for this long (per URL, format and log checkpoint); scans
    # are still counted per request. 0 switches the microcache off.
    resolve_cache_seconds: float = 1.0
    # Scans are counted in memory and written this often (see foodtrace.scan.service).
    scan_flush_seconds: float = 1.0
    # Pages built at once (in worker threads). One suits SQLite on a worker's one core: more
    # threads only contend for the GIL; a remote database may gain from a few.
    resolve_build_threads: int = 1
    # Page builds waiting for a builder thread; more are answered 503 + Retry-After.
    resolve_build_queue: int = RESOLVE_BUILD_QUEUE


# --- codes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeRejected(Exception):
    """A code that cannot be resolved: ``reason`` is malformed, forged or unknown."""

    reason: str
    status: int
    title: str  # zh-CN, for the page
    detail: str  # what exactly was wrong (English, as the core's errors)
    field: str = "code"


def authority_keys(settings: Settings) -> list[Ed25519PublicKey]:
    """The code authority's public key(s), from ``code_authority_key_file`` (the same file
    labels sign with; default ``data_dir/code-authority.key``); a resolver without one
    trusts no code. Read
    again only when the file changes (parsing the PEM on every scan costs as much as
    verifying the code)."""
    path: Path = settings.resolved_code_authority_key_file
    try:
        stat = path.stat()
    except FileNotFoundError:
        return []
    return list(_authority_keys(str(path), stat.st_mtime_ns, stat.st_size))


@lru_cache(maxsize=8)
def _authority_keys(path: str, _mtime_ns: int, _size: int) -> tuple[Ed25519PublicKey, ...]:
    try:
        return (keys.read_private(Path(path)).public_key(),)
    except FileNotFoundError:
        return ()


def check_code(url: str, trusted: Iterable[Ed25519PublicKey]) -> Code:
    """Parse and verify a scanned code URL, or raise :class:`CodeRejected`."""
    try:
        code = parse_code(url)
    except CodeError as exc:
        raise CodeRejected("malformed", 400, "这不是有效的食安码", str(exc), exc.field) from exc
    try:
        verify_code(code, trusted)
    except SignatureError as exc:
        raise CodeRejected("forged", 403, "食安码验证失败,可能是伪造的", str(exc), "s") from exc
    return code


def code_key(subject: Subject) -> str:
    """The key scans are counted under: the code's signed message (no personal data)."""
    return subject.message().decode("ascii")


def complaint_categories() -> list[tuple[str, str]]:
    """The complaint API's categories as (value, 中文 label), for the page's form."""
    try:
        from foodtrace.complaint.schemas import CATEGORY_LABELS
    except ModuleNotFoundError:
        return [("other", "其他")]
    return [(c.value, label) for c, label in CATEGORY_LABELS.items()]


# --- page data -------------------------------------------------------------------------------


@dataclass
class PartyView:
    party_id: str
    rec: int
    name: Fact
    credit_code: Fact
    kind: Fact
    region: Fact | None
    address: Fact | None


def party_view(row: Party) -> PartyView:
    i = row.entry_index
    return PartyView(
        row.party_id,
        i,
        fact(i, "/body/name", row.name),
        fact(i, "/body/credit_code", row.credit_code),
        fact(i, "/body/kind", row.kind, "party_kind"),
        fact(i, "/body/region", row.region) if row.region else None,
        fact(i, "/body/address", row.address) if row.address else None,
    )


@dataclass
class LicenceView:
    number: Fact
    kind: Fact
    scope: Fact
    issuer: Fact
    valid_from: Fact
    valid_until: Fact
    status: str  # LicenceStatus value
    status_zh: str
    revoked_on: Fact | None
    revoke_reason: Fact | None


@dataclass
class CertificateView:
    number: Fact
    holder: str  # masked name (personal data lives outside the log)
    issuer: Fact
    valid_from: Fact
    valid_until: Fact
    valid: bool
    status_zh: str


@dataclass
class InspectionView:
    inspected_on: Fact
    result: Fact
    face: str
    face_zh: str
    findings: list[Fact]
    inspector: Fact | None


@dataclass
class ReportItemView:
    name: Fact
    value: Fact
    limit: Fact
    unit: Fact
    result: Fact


@dataclass
class ReportView:
    number: Fact
    lab: Fact | None
    tested_on: Fact
    conclusion: Fact
    passed: bool
    items: list[ReportItemView]
    pdf_url: str
    subject: str


@dataclass
class MerchantPage:
    party: PartyView
    licences: list[LicenceView]
    certificates: list[CertificateView]
    certificates_valid: int
    certificates_expired: int
    inspections: list[InspectionView]
    grade: Fact | None
    grade_reason: Fact | None
    grade_on: Fact | None
    reports: list[ReportView]
    records: list[int] = field(default_factory=list)
    sites: list[SiteView] = field(default_factory=list)  # its GLN's sites (master data)
    grade_reasons: list[Fact] = field(default_factory=list)  # a computed grade's reasons


def _grade_facts(grade: GradeRecordOut | None) -> tuple[Fact | None, Fact | None, Fact | None]:
    """Letter, headline reason and day of the current grade, pointing into its entry: a
    computed grade (``grade.compute``) or a hand-typed one (``grade.set``)."""
    if grade is None:
        return None, None, None
    i = grade.entry_index
    if grade.kind is GradeKind.COMPUTED:
        return (
            fact(i, "/body/grade", grade.grade.value),
            fact(i, "/body/reasons/0", grade.reasons[0]),
            fact(i, "/body/as_of", grade.effective_on),
        )
    return (
        fact(i, "/body/grade", grade.grade.value),
        fact(i, "/body/reason", grade.reasons[0]),
        fact(i, "/body/effective_on", grade.effective_on),
    )


def _collect(*facts: Any) -> list[int]:
    out: set[int] = set()

    def walk(x: Any) -> None:
        if isinstance(x, Fact):
            out.add(x.rec)
        elif isinstance(x, list | tuple):
            for y in x:
                walk(y)
        elif hasattr(x, "__dataclass_fields__"):
            for name in x.__dataclass_fields__:
                if name != "records":
                    walk(getattr(x, name))

    for f in facts:
        walk(f)
    return sorted(out)


def licence_view(row: Licence, today: date) -> LicenceView:
    i = row.entry_index
    status = licence_status(row.valid_from, row.valid_until, row.revoked_on, today)
    revoked = row.revoked_entry_index
    return LicenceView(
        fact(i, "/body/number", row.number),
        fact(i, "/body/kind", row.kind, "licence_kind"),
        fact(i, "/body/scope", row.scope),
        fact(i, "/body/issuer", row.issuer),
        fact(i, "/body/valid_from", row.valid_from),
        fact(i, "/body/valid_until", row.valid_until),
        status.value,
        LICENCE_STATUS_ZH[status.value],
        fact(revoked, "/issued_at", row.revoked_on, "day") if revoked is not None else None,
        fact(revoked, "/body/reason", row.revoke_reason)
        if revoked is not None and row.revoke_reason
        else None,
    )


def _party_names(session: Session, ids: Iterable[str]) -> dict[str, PartyView]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.scalars(select(Party).where(Party.party_id.in_(wanted))).all()
    return {r.party_id: party_view(r) for r in rows}


def report_view(row: Report, labs: dict[str, PartyView], subject: str = "") -> ReportView:
    i = row.entry_index
    items = []
    for k, item in enumerate(row.items):
        p = f"/body/items/{k}"
        items.append(
            ReportItemView(
                fact(i, f"{p}/name", item.get("name")),
                fact(i, f"{p}/value", item.get("value")),
                fact(i, f"{p}/limit", item.get("limit")),
                fact(i, f"{p}/unit", item.get("unit")),
                fact(i, f"{p}/result", item.get("result"), "conclusion"),
            )
        )
    lab = labs.get(row.lab)
    return ReportView(
        fact(i, "/body/report_number", row.report_number),
        lab.name if lab else None,
        fact(i, "/body/tested_on", row.tested_on),
        fact(i, "/body/conclusion", row.conclusion, "conclusion"),
        row.conclusion == "pass",
        items,
        f"/api/v1/reports/{_quote(row.report_number)}/pdf",
        subject,
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def merchant_page(session: Session, merchant_id: str, today: date) -> MerchantPage | None:
    """The shop's page data, or None when no party has this id or credit code."""
    row = (
        session.get(Party, merchant_id)
        or session.scalars(select(Party).where(Party.credit_code == merchant_id)).first()
    )
    if row is None:
        return None
    pid = row.party_id
    licences = [
        licence_view(r, today)
        for r in session.scalars(
            select(Licence).where(Licence.holder == pid).order_by(Licence.entry_index)
        )
    ]
    certificates = []
    for c in session.scalars(
        select(HealthCertificate)
        .where(HealthCertificate.employer == pid)
        .order_by(HealthCertificate.valid_until.desc())
    ):
        i = c.entry_index
        name = session.get(PersonalData, c.holder_commitment)
        valid = c.valid_from <= today <= c.valid_until
        certificates.append(
            CertificateView(
                fact(i, "/body/certificate_number", c.certificate_number),
                personal.mask_name(name.value) if name and name.value else "(已删除)",
                fact(i, "/body/issuer", c.issuer),
                fact(i, "/body/valid_from", c.valid_from),
                fact(i, "/body/valid_until", c.valid_until),
                valid,
                "有效" if valid else ("已过期" if today > c.valid_until else "尚未生效"),
            )
        )
    inspection_rows = list(
        session.scalars(
            select(Inspection)
            .where(Inspection.party_id == pid)
            .order_by(Inspection.inspected_on.desc(), Inspection.entry_index.desc())
            .limit(LATEST_INSPECTIONS)
        )
    )
    grade = current_grade(session, pid, today)
    report_rows = list(
        session.scalars(
            select(Report).where(Report.subject_party == pid).order_by(Report.tested_on.desc())
        )
    )
    names = _party_names(
        session, [i.inspector for i in inspection_rows] + [r.lab for r in report_rows]
    )
    inspections = []
    for ins in inspection_rows:
        i = ins.entry_index
        face = FACES.get(ins.result, "flat")
        inspector = names.get(ins.inspector)
        inspections.append(
            InspectionView(
                fact(i, "/body/inspected_on", ins.inspected_on),
                fact(i, "/body/result", ins.result),
                face,
                FACE_ZH[face],
                [fact(i, f"/body/findings/{k}", t) for k, t in enumerate(ins.findings)],
                inspector.name if inspector else None,
            )
        )
    page = MerchantPage(
        party_view(row),
        licences,
        certificates,
        sum(c.valid for c in certificates),
        sum(not c.valid for c in certificates),
        inspections,
        *_grade_facts(grade),
        [report_view(r, names) for r in report_rows],
    )
    page.sites = masterdata.party_sites(session, row.gln)
    if grade is not None and grade.kind is GradeKind.COMPUTED:
        page.grade_reasons = [
            fact(grade.entry_index, f"/body/reasons/{k}", r) for k, r in enumerate(grade.reasons)
        ][1:]
    page.records = _collect(page)
    return page


# --- lots ------------------------------------------------------------------------------------


@dataclass
class EventView:
    rec: int
    time: Fact
    step: Fact | None
    disposition: Fact | None
    place_id: Fact | None  # compared by value; shown by the place's party name
    place: PartyView | None
    author: PartyView | None
    lots: list[str]  # which of the page's lots the event names (product name + lot code)
    recalled: bool
    kind: str
    site: SiteView | None = None  # the place's master data (name, address), if recorded


@dataclass
class RecallView:
    lot: str
    time: Fact
    disposition: Fact
    by: PartyView | None


@dataclass
class LotPage:
    gtin: str
    lot_code: Fact
    product: Fact
    specification: Fact | None
    category: Fact | None
    production_date: Fact
    quantity: Fact
    unit: Fact
    producer: PartyView | None
    inputs: list[str]
    events: list[EventView]
    recalls: list[RecallView]
    chart_svg: str
    readings: int
    excursions: list[tuple[str, Fact]]
    range_c: tuple[float, float]
    reports: list[ReportView]
    records: list[int] = field(default_factory=list)


_OUT_EPC = EpcisEventEpc.__table__.alias("o")  # built once: an alias costs a copy of every column
_IN_EPC = EpcisEventEpc.__table__.alias("i")


def _input_lots(session: Session, gtin: str, lot_code: str) -> list[tuple[str, str]]:
    """Lots this lot was made from, transitively (transformation inputs), nearest first."""
    seen = {(gtin, lot_code)}
    frontier = [(gtin, lot_code)]
    found: list[tuple[str, str]] = []
    out_epc, in_epc = _OUT_EPC, _IN_EPC
    for _ in range(MAX_INPUT_DEPTH):
        if not frontier:
            break
        conds = [(out_epc.c.gtin == g) & (out_epc.c.lot == lot) for g, lot in frontier]
        rows = session.execute(
            select(in_epc.c.gtin, in_epc.c.lot)
            .select_from(out_epc.join(in_epc, in_epc.c.event_pk == out_epc.c.event_pk))
            .where(
                out_epc.c.role.in_(OUTPUT_ROLES),
                in_epc.c.role.in_(INPUT_ROLES),
                in_epc.c.lot.is_not(None),
                or_(*conds),
            )
            .distinct()
        ).all()
        frontier = []
        for g, lot in rows:
            if g and (g, lot) not in seen:
                seen.add((g, lot))
                found.append((g, lot))
                frontier.append((g, lot))
    return found


def _epc_lots(session: Session, pks: list[int]) -> dict[int, set[tuple[str, str]]]:
    out: dict[int, set[tuple[str, str]]] = {}
    if not pks:
        return out
    rows = session.execute(
        select(EpcisEventEpc.event_pk, EpcisEventEpc.gtin, EpcisEventEpc.lot).where(
            EpcisEventEpc.event_pk.in_(pks), EpcisEventEpc.lot.is_not(None)
        )
    )
    for pk, g, lot in rows:
        if g and lot:
            out.setdefault(pk, set()).add((g, lot))
    return out


def _temperature_readings(row: EpcisEvent) -> list[Reading]:
    """Temperature reports of one event, read from its stored JSON with their pointers."""
    event = json.loads(row.body)
    out = []
    for i, element in enumerate(event.get("sensorElementList") or []):
        meta = element.get("sensorMetadata") or {}
        for j, report in enumerate(element.get("sensorReport") or []):
            kind = str(report.get("type", ""))
            value = report.get("value")
            if kind.rsplit("-", 1)[-1].rsplit("/", 1)[-1] != "Temperature":
                continue
            if not isinstance(value, int | float) or report.get("uom", "CEL") != "CEL":
                continue
            when = report.get("time") or meta.get("time") or event.get("eventTime")
            path = f"/body/event/sensorElementList/{i}/sensorReport/{j}/value"
            out.append(
                Reading(
                    datetime.fromisoformat(str(when).replace("Z", "+00:00")),
                    fact(row.entry_index, path, value, "num", by_value=True),
                )
            )
    return out


def lot_page(
    session: Session, gtin: str, lot_code: str, range_c: tuple[float, float]
) -> LotPage | None:
    row = session.get(Lot, (gtin, lot_code))
    if row is None:
        return None
    product = session.get(Product, gtin)
    assert product is not None  # lots reference products
    chain = [(gtin, lot_code), *_input_lots(session, gtin, lot_code)]
    products = {
        p.gtin: p
        for p in session.scalars(select(Product).where(Product.gtin.in_({g for g, _ in chain})))
    }

    def label(g: str, lot: str) -> str:
        p = products.get(g)
        return f"{p.name if p else g} {lot}"

    events: dict[int, EpcisEvent] = {}
    for g, lot in chain:
        for e in lot_events(session, lot, g):
            events[e.id] = e
    ordered = sorted(events.values(), key=lambda e: (e.event_time, e.id))
    lots_of = _epc_lots(session, [e.id for e in ordered])
    places = {e.biz_location or e.read_point for e in ordered} - {None}
    by_gln = {
        p.gln: party_view(p)
        for p in session.scalars(
            select(Party).where(
                Party.gln.in_([str(u).rsplit("/", 1)[-1] for u in places if "/414/" in str(u)])
            )
        )
    }
    names = _party_names(session, [e.author for e in ordered] + [row.producer])
    site_of = masterdata.sites(session, places)
    chain_set = set(chain)
    views: list[EventView] = []
    recalls: list[RecallView] = []
    readings: list[Reading] = []
    for e in ordered:
        i = e.entry_index
        where = "bizLocation" if e.biz_location else "readPoint" if e.read_point else None
        place_uri = e.biz_location or e.read_point
        place = by_gln.get(place_uri.rsplit("/", 1)[-1]) if place_uri else None
        named = sorted(lots_of.get(e.id, set()) & chain_set, key=chain.index)
        recalled = (e.disposition or "") == RECALLED
        view = EventView(
            i,
            fact(i, "/body/event/eventTime", e.event_time, "time"),
            fact(i, "/body/event/bizStep", e.biz_step, "bizstep") if e.biz_step else None,
            fact(i, "/body/event/disposition", e.disposition, "disposition")
            if e.disposition
            else None,
            fact(i, f"/body/event/{where}/id", place_uri, by_value=True) if where else None,
            place,
            names.get(e.author),
            [label(g, lot) for g, lot in named],
            recalled,
            e.type,
            site_of.get(place_uri) if place_uri else None,
        )
        views.append(view)
        if recalled and view.disposition is not None:
            for g, lot in named:
                recalls.append(RecallView(label(g, lot), view.time, view.disposition, view.author))
        if (gtin, lot_code) in lots_of.get(e.id, set()) or not lots_of.get(e.id):
            readings += _temperature_readings(e)
    low, high = range_c
    report_rows = []
    for g, lot in chain:
        report_rows += list(
            session.scalars(
                select(Report)
                .where(Report.subject_gtin == g, Report.subject_lot == lot)
                .order_by(Report.tested_on.desc())
            )
        )
    labs = _party_names(session, [r.lab for r in report_rows])
    reports = [
        report_view(
            r, labs, label(r.subject_gtin or "", r.subject_lot or "") if r.subject_lot else ""
        )
        for r in report_rows
    ]
    i = row.entry_index
    p = product.entry_index
    page = LotPage(
        gtin,
        fact(i, "/body/lot_code", row.lot_code),
        fact(p, "/body/name", product.name),
        fact(p, "/body/specification", product.specification) if product.specification else None,
        fact(p, "/body/category", product.category) if product.category else None,
        fact(i, "/body/production_date", row.production_date),
        fact(i, "/body/quantity", row.quantity, "num"),
        fact(i, "/body/unit", row.unit),
        names.get(row.producer),
        [label(g, lot) for g, lot in chain[1:]],
        views,
        recalls,
        temperature_svg(readings, low, high),
        len(readings),
        [(show_time(r.time), r.celsius) for r in excursions(readings, low, high)],
        range_c,
        reports,
    )
    page.records = _collect(page)
    return page


def product_page(session: Session, gtin: str) -> tuple[Fact, PartyView | None, list[int]] | None:
    """A serialised item's product: name and producer (serials have no lot of their own)."""
    product = session.get(Product, gtin)
    if product is None:
        return None
    producer = _party_names(session, [product.producer]).get(product.producer)
    name = fact(product.entry_index, "/body/name", product.name)
    return name, producer, _collect(name, producer)


# --- proofs for the badge --------------------------------------------------------------------


@dataclass(frozen=True)
class Witnessing:
    """What the page needs about witnesses: their cosignature verifier keys, how many must
    have cosigned, and the log's checkpoint notes with the collected cosignatures added."""

    keys: tuple[str, ...]
    required: int
    cosigned: Callable[[str], str]
    largest: Callable[[], int | None] = lambda: None
    """The largest checkpoint size a configured witness cosigned."""


def witnessed_extension(
    log: MerkleLog, witnesses: Witnessing, shown: Iterable[str]
) -> dict[str, Any] | None:
    """The largest cosigned checkpoint, with a consistency proof to it from each shown size
    below it. A witness cosigns only trees at least as large as the last it saw, so a
    smaller checkpoint issued later (an aligned anchor) is witnessed through a larger one
    that provably extends it; the page checks the proof itself."""
    size = witnesses.largest()
    below = sorted(int(s) for s in shown if size is not None and int(s) < size)
    if size is None or not below:
        return None
    return {
        "checkpoint": witnesses.cosigned(log.checkpoint_at(size).note),
        "consistency": {
            str(s): [base64.b64encode(h).decode() for h in log.consistency_proof(s, size)]
            for s in below
        },
    }


@dataclass(frozen=True)
class AnchorInfo:
    tree_size: int
    root: bytes
    status: str
    tx_hash: str | None
    block_number: int | None
    contract_address: str
    chain_id: int
    log_id: str


def latest_anchor(session: Session) -> AnchorInfo | None:
    """The largest anchor journaled with a transaction, in a live deployment."""
    from foodtrace.ledger.models import Anchor, Deployment

    found = session.execute(
        select(Deployment, Anchor)
        .join(Anchor, Anchor.deployment_id == Deployment.id)
        .where(
            Deployment.retired_at.is_(None),
            Anchor.tx_hash.is_not(None),
            Anchor.status != "lost",
        )
        .order_by(Anchor.tree_size.desc(), Deployment.id)
        .limit(1)
    ).first()
    if found is None:
        return None
    dep, anchor = found
    return AnchorInfo(
        anchor.tree_size,
        bytes(anchor.root),
        anchor.status,
        "0x" + bytes(anchor.tx_hash).hex() if anchor.tx_hash else None,
        anchor.block_number,
        dep.contract_address,
        int(dep.chain_id),
        "0x" + bytes(dep.log_id).hex(),
    )


def proofs(
    log: MerkleLog,
    session: Session,
    records: Iterable[int],
    anchor: AnchorInfo | None,
    chain_public_url: str,
    latest: SignedCheckpoint | None = None,
    witnesses: Witnessing | None = None,
    *,
    chain_embedded: bool = False,
) -> dict[str, Any]:
    """What the page's script verifies: each record's exact leaf data and inclusion proof,
    the signed checkpoints they are proved in (the anchored one when it covers the record,
    else ``latest``, the log's latest checkpoint), the log's verifier key, and the anchor to
    read back from the chain.

    A page view never signs a checkpoint (that is a write, and SQLite has one writer): a
    record newer than the latest checkpoint is sent ``pending``, without a proof, and the
    badge says it is not yet verifiable; the anchorer's next checkpoint covers it. All the
    leaf data come from one query and all the proofs' node hashes from another. With
    ``witnesses``, each checkpoint note carries the cosignatures collected for it, and the
    page gets the witnesses' verifier keys and the quorum it must see."""
    indices = sorted(set(records))
    latest = latest if latest is not None else log.latest_checkpoint()
    anchored = None
    if anchor is not None:
        try:
            anchored = log.checkpoint_at(anchor.tree_size)
        except LookupError:
            anchored = None

    def covering(index: int) -> SignedCheckpoint | None:
        for cp in (anchored, latest):
            if cp is not None and index < cp.size:
                return cp
        return None

    rows = session.execute(
        select(LogEntry.leaf_index, LogEntry.data).where(LogEntry.leaf_index.in_(indices))
    )
    data = {int(i): bytes(d) for i, d in rows}
    missing = [i for i in indices if i not in data]
    if missing:
        raise IndexError(f"entries {missing} do not exist in the log")
    proved = {i: cp for i in indices if (cp := covering(i)) is not None}
    wanted: list[Node] = list(
        dict.fromkeys(n for i, cp in proved.items() for n in inclusion_nodes(i, cp.size))
    )
    hashes = dict(zip(wanted, log.read_nodes(wanted), strict=True)) if wanted else {}
    out_records = []
    checkpoints: dict[str, str] = {}
    for index in indices:
        text = data[index].decode("utf-8", errors="replace")
        cp = proved.get(index)
        if cp is None:
            out_records.append({"index": index, "data": text, "pending": True})
            continue
        proof = inclusion_proof(index, cp.size, lambda nodes: [hashes[n] for n in nodes])
        checkpoints[str(cp.size)] = cp.note if witnesses is None else witnesses.cosigned(cp.note)
        out_records.append(
            {
                "index": index,
                "data": text,
                "proof": [base64.b64encode(h).decode() for h in proof],
                "checkpoint": str(cp.size),
            }
        )
    return {
        "records": out_records,
        "checkpoints": checkpoints,
        "verifier_key": log.verifier_key(),
        "anchor": None
        if anchor is None
        else {
            "tree_size": anchor.tree_size,
            "root": base64.b64encode(anchor.root).decode(),
            "status": anchor.status,
            "tx_hash": anchor.tx_hash,
            "block_number": anchor.block_number,
            "contract_address": anchor.contract_address,
            "chain_id": anchor.chain_id,
            "log_id": anchor.log_id,
        },
        "rpc_url": chain_public_url or None,
        # Said on every page whose chain is the server's own (the badge's note to show).
        "chain_note": EMBEDDED_CHAIN_NOTE if chain_embedded else None,
        "selector": ANCHOR_SELECTOR,
        "key_selector": LOG_KEY_SELECTOR,
        "witnesses": {"keys": [], "required": 0}
        if witnesses is None
        else {"keys": list(witnesses.keys), "required": witnesses.required},
        "witnessed": None
        if witnesses is None
        else witnessed_extension(log, witnesses, checkpoints),
        "formats": FORMATS,
    }


def today_cst() -> date:
    return datetime.now(UTC).astimezone(CST).date()
