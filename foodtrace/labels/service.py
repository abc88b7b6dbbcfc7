"""Issuing codes: sign them with the authority key, render them, and record serials.

Signing is deterministic (Ed25519), so issuing the same merchant or lot code twice gives the
same code: nothing needs recording for them. Serials are different: they are minted here,
random (a counterfeiter cannot guess the next genuine serial from one label) and recorded
with their lot, so the resolver can tell a genuine serial from an invented one and name its
lot.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from foodtrace.config import CODE_AUTHORITY_KEY_FILE, Settings
from foodtrace.labels.models import IssuedSerial
from foodtrace.qr.render import render_png, render_svg
from foodtrace.qr.sheet import Label, label_sheet_pdf
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.trace.codes import Code

AUTHORITY_KEY_FILE = CODE_AUTHORITY_KEY_FILE  # under data_dir unless configured
SERIAL_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
SERIAL_CHARS = 12  # 60 random bits
MAX_SERIALS_PER_REQUEST = 1000


class ImageFormat(StrEnum):
    PNG = "png"
    SVG = "svg"
    PDF = "pdf"


MEDIA_TYPES = {
    ImageFormat.PNG: "image/png",
    ImageFormat.SVG: "image/svg+xml",
    ImageFormat.PDF: "application/pdf",
}


def authority_key(settings: Settings) -> Ed25519PrivateKey:
    """The code authority's key from ``resolved_code_authority_key_file`` (created on first
    use, atomically; a server with entries refuses to start without it: see
    :func:`foodtrace.store.keyfiles.check_keys`)."""
    return load_or_create_key(settings.resolved_code_authority_key_file)


def new_serial(token: Callable[[int], bytes] = secrets.token_bytes) -> str:
    value = int.from_bytes(token(SERIAL_CHARS * 5 // 8 + 1), "big")
    return "".join(SERIAL_ALPHABET[(value >> (5 * i)) & 31] for i in range(SERIAL_CHARS))


def issue_serials(
    session: Session, gtin: str, lot: str, count: int, by: str, now: datetime | None = None
) -> list[str]:
    """Mint ``count`` new serials for the lot and record them. Flushes only."""
    if not 1 <= count <= MAX_SERIALS_PER_REQUEST:
        raise ValueError(f"count: expected 1-{MAX_SERIALS_PER_REQUEST}, got {count}")
    now = now or datetime.now(UTC)
    serials: list[str] = []
    while len(serials) < count:
        serial = new_serial()
        if serial in serials or session.get(IssuedSerial, (gtin, serial)) is not None:
            continue  # 60 random bits: practically never
        serials.append(serial)
    session.add_all(
        IssuedSerial(gtin=gtin, serial=s, lot_code=lot, issued_by=by, issued_at=now)
        for s in serials
    )
    session.flush()
    return serials


def serial_lot(session: Session, gtin: str, serial: str) -> IssuedSerial | None:
    """The issued serial (with its lot), or None: a serial nobody issued is not genuine."""
    return session.get(IssuedSerial, (gtin, serial))


def lot_serials(session: Session, gtin: str, lot: str) -> list[str]:
    return list(
        session.scalars(
            select(IssuedSerial.serial)
            .where(IssuedSerial.gtin == gtin, IssuedSerial.lot_code == lot)
            .order_by(IssuedSerial.issued_at, IssuedSerial.serial)
        )
    )


@dataclass(frozen=True)
class NamedCode:
    """A code and the name printed under it on a label (shop or product name)."""

    code: Code
    name: str


def render(code: Code, fmt: ImageFormat, caption: str | None = None) -> bytes:
    """One code as PNG or SVG (captioned with its human-readable text by default)."""
    text = caption if caption is not None else code.human_text
    if fmt is ImageFormat.PNG:
        return render_png(code.qr_text, caption=text)
    if fmt is ImageFormat.SVG:
        return render_svg(code.qr_text, caption=text)
    return sheet([NamedCode(code, text)])


def sheet(codes: Sequence[NamedCode], title: str = "食安码标签") -> bytes:
    """An A4 label sheet PDF: each label the QR, the code text and the name."""
    return label_sheet_pdf(
        [Label(c.code.qr_text, c.code.human_text, c.name) for c in codes], title=title
    )
