"""Building a code's answer from the database: the page data, its proofs and evidence, and
the encoded JSON or HTML. The route (:mod:`foodtrace.resolver.views`) and the page read
model's refresher (:mod:`foodtrace.resolver.pageviews`) build with these same functions, so
a stored page is byte for byte what a build at the same checkpoint answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.anchors import AnchorInfo, latest_anchor
from foodtrace.recall import banner as recall_banner
from foodtrace.resolver import evidence
from foodtrace.resolver.badge import Witnessing, proofs
from foodtrace.resolver.display import complaint_categories, today_cst
from foodtrace.resolver.lot import lot_page, product_page
from foodtrace.resolver.merchant import merchant_page
from foodtrace.resolver.rendering import json_script, plain, templates
from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.trace.codes import Code, CodeKind, Lot, Merchant, Serial

HTML_TYPE: Final = "text/html; charset=utf-8"
HTML_HEADERS: Final = (("Vary", "Accept"), ("Cache-Control", "no-store"))
LATEST_KEY: Final = b',"latest":'


@dataclass(frozen=True)
class BuiltPage:
    """One code's encoded answer and what it was built against.

    ``body`` is the JSON answer (still without its per-request ``"scans"``) or the HTML.
    A JSON answer ends with ``"latest"``: the log's latest checkpoint and consistency proofs
    to it from ``latest_from``; ``split`` is where that value starts, so a stored answer can
    be brought to a newer checkpoint without a rebuild. ``floating`` says the rest of the
    answer depends on the latest checkpoint too (a record proved in it, or pending), and
    ``records`` are the log entries shown (their bodies name the page's subjects)."""

    body: bytes
    media_type: str
    built_size: int
    anchor: AnchorInfo | None
    floating: bool
    records: tuple[str, ...]
    split: int | None = None
    latest_from: tuple[int, ...] = ()


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def cosigned(settings: Settings, log: Any, note: str) -> str:
    """``note`` with the cosignatures the log collected for it (as the page's notes)."""
    witnesses = witnessing(settings, log)
    return note if witnesses is None else witnesses.cosigned(note)


def witnessing(settings: Settings, log: Any) -> Witnessing | None:
    """The page's witness keys and quorum, and the cosignatures the log collected."""
    from foodtrace.witness.collect import cosigned_note, largest_cosigned, parse_endpoints

    endpoints = parse_endpoints(settings.witnesses)
    if not endpoints:
        return None
    names = [ep.name for ep in endpoints]
    return Witnessing(
        tuple(ep.vkey for ep in endpoints),
        settings.witnesses_required,
        lambda note: cosigned_note(log.engine, note, names),
        lambda: largest_cosigned(log.engine, names),
    )


def page_data(
    session: Any, code: Code, range_c: tuple[float, float]
) -> tuple[dict[str, Any] | None, str]:
    """The page's data and its template, or None when the code names nothing we know."""
    s = code.subject
    if code.kind is CodeKind.MERCHANT:
        assert isinstance(s, Merchant)
        m = merchant_page(session, s.merchant_id, today_cst())
        if m is None:
            return None, "merchant.html"
        cases = recall_banner.merchant_cases(session, s.merchant_id)
        records = sorted({*m.records, *recall_banner.records(cases)})
        return {"merchant": m, "recall_cases": cases, "records": records}, "merchant.html"
    if isinstance(s, Lot):
        lot = lot_page(session, s.gtin, s.lot, range_c)
        if lot is None:
            return None, "lot.html"
        cases = recall_banner.lot_cases(session, s.gtin, s.lot)
        records = sorted({*lot.records, *recall_banner.records(cases)})
        return {"lot": lot, "recall_cases": cases, "records": records}, "lot.html"
    assert isinstance(s, Serial)
    found = product_page(session, s.gtin)
    if found is None:
        return None, "serial.html"
    name, producer, records = found
    return {
        "product": name,
        "producer": producer,
        "serial": s.serial,
        "gtin": s.gtin,
        "records": records,
    }, "serial.html"


def _floating(proved: dict[str, Any], anchor: AnchorInfo | None) -> bool:
    anchored = str(anchor.tree_size) if anchor is not None else None
    return any(r.get("pending") or r["checkpoint"] != anchored for r in proved["records"])


def latest_value(
    settings: Settings,
    log: MerkleLog,
    latest: SignedCheckpoint | None,
    checkpoints: dict[str, str],
    sizes: list[int],
) -> dict[str, Any] | None:
    """The JSON answer's ``"latest"``: the latest checkpoint and proofs to it from ``sizes``."""
    if latest is None:
        return None
    note = checkpoints.get(str(latest.size)) or cosigned(settings, log, latest.note)
    return evidence.latest(log, latest, note, sizes)


def build_json(
    session: Session,
    log: MerkleLog,
    settings: Settings,
    code: Code,
    page: dict[str, Any],
    latest: SignedCheckpoint | None,
) -> BuiltPage:
    """The JSON answer: the page's facts, its records' proofs and the scanner's evidence."""
    records = page.get("records", [])
    # The scanner's evidence in this one answer: the records' proofs, and the authors' key
    # registrations and revocations with theirs (resolver.evidence).
    # The platform's records verify like any author's: its key's logged registration too.
    signed = evidence.platform_signed(session, records, settings.platform_author)
    author_keys = [
        *evidence.author_keys(session, [i for i in records if i not in signed]),
        *evidence.platform_keys(session, signed, settings.platform_author),
    ]
    anchor = latest_anchor(session)
    proved = proofs(
        log,
        session,
        [*records, *evidence.evidence_indices(author_keys)],
        anchor,
        settings.chain_public_url,
        latest,
        witnessing(settings, log),
        chain_embedded=not settings.chain_url,
    )
    sizes = [int(size) for size in proved["checkpoints"]]
    out = {
        "kind": code.kind.value,
        "code": code.human_text,
        **plain({k: v for k, v in page.items() if k != "records"}),
        "records": [{"index": i, "url": f"/api/v1/records/{i}"} for i in records],
        "proofs": proved,
        "author_keys": [k.to_json() for k in author_keys],
        "platform_signed": sorted(signed),
    }
    head = encode(out)[:-1] + LATEST_KEY
    tail = encode(latest_value(settings, log, latest, proved["checkpoints"], sizes)) + b"}"
    return BuiltPage(
        head + tail,
        "application/json",
        latest.size if latest is not None else 0,
        anchor,
        _floating(proved, anchor),
        tuple(r["data"] for r in proved["records"]),
        len(head),
        tuple(sorted(set(sizes))),
    )


def build_html(
    session: Session,
    log: MerkleLog,
    settings: Settings,
    code: Code,
    page: dict[str, Any],
    template: str,
    latest: SignedCheckpoint | None,
    scan: Any = None,
) -> BuiltPage:
    """The zh-CN page; ``scan`` is the serial page's scan status (never stored)."""
    anchor = latest_anchor(session)
    bundle = proofs(
        log,
        session,
        page.get("records", []),
        anchor,
        settings.chain_public_url,
        latest,
        witnessing(settings, log),
        chain_embedded=not settings.chain_url,
    )
    html = (
        templates()
        .get_template(template)
        .render(
            **page,
            scan=scan,
            code=code,
            proofs=json_script(bundle),
            anchor=anchor,
            today=today_cst(),
            complaint_categories=complaint_categories(),
        )
    )
    return BuiltPage(
        html.encode(),
        HTML_TYPE,
        latest.size if latest is not None else 0,
        anchor,
        _floating(bundle, anchor),
        tuple(r["data"] for r in bundle["records"]),
    )
