"""The page read model: each merchant and lot page stored encoded, as a scan answers it.

A cold code used to cost a page build (about 19 SQL statements and 7–9 ms of CPU); with a
``page_views`` row it costs one row read, the log's latest checkpoint and the latest anchor.
A row holds the JSON answer (without its per-request scan status) or the HTML page, built by
:mod:`foodtrace.resolver.pages` against a checkpoint and an anchor, and the subjects the page
shows (``page_view_subjects``: party ids, GLNs, GTINs, lots, taken from its records).

Kept current by the projectors: every entry the log projects marks stale, in the entry's own
transaction, the rows whose subjects it names (:func:`mark_stale`, called once from
:func:`foodtrace.record.registry.project`). A row is served only when it says exactly what a
build would say now (:meth:`PageView.answer`): not stale, built the same day (pages show
licence and certificate status as of today), against the same anchor and, when the page
shows records proved in (or pending after) the latest checkpoint, the same checkpoint; a
JSON answer built at an older checkpoint gets its ``"latest"`` member recomputed. Anything
else is built on demand exactly as without the read model, and the refresher
(:mod:`foodtrace.resolver.refresher`) rebuilds it. So correctness never waits for the
refresher: a served page is never older than the last committed entry it shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from foodtrace.ledger.anchors import AnchorInfo
from foodtrace.store.base import Base

KEY_MAX: Final = 300
SUBJECT_MAX: Final = 200
STORED_MODES: Final = ("json", "html")

_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._-]{5,127}")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_LOT_URI: Final = re.compile(r"/01/(\d{14})/10/([^/?#\s]+)")
_GTIN_URI: Final = re.compile(r"/01/(\d{14})(?!/(?:10|21)/)")  # the product, not a lot of it
_GTIN: Final = re.compile(r"\d{14}")
_GLN_URI: Final = re.compile(r"/414/(\d{13})")
_GTIN_KEYS: Final = ("gtin", "subject_gtin")
_LOT_KEYS: Final = ("lot", "lot_code", "subject_lot")


class PageView(Base):
    """One code's page in one format (``json`` or ``html``), encoded as it is served."""

    __tablename__ = "page_views"

    page_key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True)  # the code's path
    mode: Mapped[str] = mapped_column(String(8), primary_key=True)
    code_url: Mapped[str] = mapped_column(Text)  # a signed code URL to rebuild it from
    body: Mapped[bytes] = mapped_column(LargeBinary)
    split: Mapped[int | None] = mapped_column(Integer)  # where JSON's "latest" value starts
    latest_from: Mapped[str] = mapped_column(Text)  # JSON list: sizes "latest" proves from
    built_size: Mapped[int] = mapped_column(BigInteger)  # the latest checkpoint at build
    anchor: Mapped[str] = mapped_column(String(KEY_MAX))  # anchor_tag() at build
    day: Mapped[str] = mapped_column(String(10))  # today (China) at build
    floating: Mapped[bool] = mapped_column(Boolean)  # depends on the latest checkpoint
    stale: Mapped[bool] = mapped_column(Boolean, index=True)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PageViewSubject(Base):
    """A subject a stored page shows: an entry naming it makes the page stale."""

    __tablename__ = "page_view_subjects"

    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX), primary_key=True)
    page_key: Mapped[str] = mapped_column(String(KEY_MAX), primary_key=True, index=True)


@dataclass(frozen=True)
class Current:
    """What a stored page must have been built against to be served now."""

    size: int
    anchor: str
    day: str


def anchor_tag(anchor: AnchorInfo | None) -> str:
    """Everything of the anchor a page shows, as one comparable string."""
    if anchor is None:
        return ""
    return "|".join(
        str(x)
        for x in (
            anchor.tree_size,
            anchor.root.hex(),
            anchor.status,
            anchor.tx_hash,
            anchor.block_number,
            anchor.contract_address,
            anchor.chain_id,
            anchor.log_id,
        )
    )[:KEY_MAX]


def usable(row: PageView | StoredPage, now: Current) -> bool:
    """Whether ``row`` answers as a build would now (see the module docstring)."""
    if row.stale or row.day != now.day or row.anchor != now.anchor:
        return False
    if row.built_size > now.size:
        return False
    return not row.floating or row.built_size == now.size


# --- subjects (pure) -------------------------------------------------------------------------


def _text_subjects(text: str, out: set[str]) -> None:
    for g, lot in _LOT_URI.findall(text):
        out.add(f"lot:{g}/{lot}")
    out.update(f"id:{g}" for g in _GTIN_URI.findall(text))
    out.update(f"id:{gln}" for gln in _GLN_URI.findall(text))
    if _ID.fullmatch(text) and not _DAY.match(text) and not _GTIN.fullmatch(text):
        out.add(f"id:{text}")


def _walk(value: Any, out: set[str], depth: int = 0) -> None:
    if depth > 12:
        return
    if isinstance(value, str):
        if len(value) <= SUBJECT_MAX:
            _text_subjects(value, out)
    elif isinstance(value, Mapping):
        gtin = next((value[k] for k in _GTIN_KEYS if isinstance(value.get(k), str)), None)
        lot = next((value[k] for k in _LOT_KEYS if isinstance(value.get(k), str)), None)
        if gtin and lot:
            out.add(f"lot:{gtin}/{lot}")
        elif gtin:  # the product itself (its name shows on every page of its lots)
            out.add(f"id:{gtin}")
        for v in value.values():
            _walk(v, out, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _walk(v, out, depth + 1)


def entry_subjects(body: Mapping[str, Any], about: Iterable[str] = ()) -> set[str]:
    """The subjects an entry names: the ids, GLNs, products and lots in its body (plain
    strings, GS1 Digital Link URIs, ``gtin`` + ``lot`` pairs; a product's GTIN only where
    the body names the product, not a lot of it) and the canonical subjects its type
    declares it is ``about``. Not its author: a producer's every event would otherwise
    mark every page showing the producer. Over-inclusive otherwise: a needless stale mark
    costs a rebuild, a missing one would serve an old page."""
    out: set[str] = set()
    _walk(body, out)
    for text in about:
        _text_subjects(text, out)
    return {s[:SUBJECT_MAX] for s in out}


def page_subjects(page_key: str, records: Iterable[str]) -> set[str]:
    """The subjects a page shows: its own code's, and those its records (entry JSON) name."""
    out: set[str] = set()
    _text_subjects(page_key, out)
    if page_key.startswith("/M/"):
        out.add(f"id:{page_key[3:]}"[:SUBJECT_MAX])
    for text in records:
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out |= entry_subjects(entry.get("body") or {})
            if entry.get("author"):  # its name shows: an entry about the author changes it
                out.add(f"id:{entry['author']}"[:SUBJECT_MAX])
    return out


# --- the projection --------------------------------------------------------------------------


def mark_stale(session: Session, subjects: Iterable[str]) -> None:
    """Mark stale every stored page showing one of ``subjects`` (in the caller's
    transaction: the entry and the stale mark commit together)."""
    names = sorted(subjects)
    if not names:
        return
    shows = select(PageViewSubject.page_key).where(PageViewSubject.subject.in_(names))
    session.execute(
        update(PageView)
        .where(PageView.page_key.in_(shows), PageView.stale.is_(False))
        .values(stale=True)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class StoredPage:
    """A ``page_views`` row as a scan reads it (plain columns: no ORM object per scan)."""

    body: bytes
    split: int | None
    latest_from: str
    built_size: int
    anchor: str
    day: str
    floating: bool
    stale: bool


_READ: Final = select(
    PageView.body,
    PageView.split,
    PageView.latest_from,
    PageView.built_size,
    PageView.anchor,
    PageView.day,
    PageView.floating,
    PageView.stale,
)


def read(session: Session, page_key: str, mode: str) -> StoredPage | None:
    row = session.execute(_READ.where(PageView.page_key == page_key, PageView.mode == mode)).first()
    return None if row is None else StoredPage(bytes(row[0]), *row[1:])


def store(
    session: Session,
    page_key: str,
    mode: str,
    code_url: str,
    built: Any,
    day: str,
    subjects: Iterable[str],
) -> None:
    """Replace the stored page (a :class:`~foodtrace.resolver.pages.BuiltPage`) and its
    subjects; the caller commits."""
    session.execute(delete(PageView).where(PageView.page_key == page_key, PageView.mode == mode))
    session.add(
        PageView(
            page_key=page_key,
            mode=mode,
            code_url=code_url,
            body=built.body,
            split=built.split,
            latest_from=json.dumps(list(built.latest_from)),
            built_size=built.built_size,
            anchor=anchor_tag(built.anchor),
            day=day,
            floating=built.floating,
            stale=False,
            built_at=datetime.now(UTC),
        )
    )
    known = set(
        session.scalars(select(PageViewSubject.subject).where(PageViewSubject.page_key == page_key))
    )
    session.add_all(
        PageViewSubject(subject=s, page_key=page_key) for s in sorted(set(subjects) - known)
    )


def due(
    session: Session, now: Current, limit: int, *, stale_only: bool = False
) -> list[tuple[str, str, str]]:
    """Stored pages that cannot be served as they are: (page key, mode, code URL). With
    ``stale_only``, only those marked stale (an indexed lookup; the others can only appear
    when ``now`` changes, and finding them reads the whole table)."""
    outdated = (
        (PageView.stale.is_(True))
        | (PageView.day != now.day)
        | (PageView.anchor != now.anchor)
        | (PageView.floating.is_(True) & (PageView.built_size != now.size))
    )
    rows = session.execute(
        select(PageView.page_key, PageView.mode, PageView.code_url)
        .where(PageView.stale.is_(True) if stale_only else outdated)
        .limit(limit)
    )
    return [(k, m, u) for k, m, u in rows]
