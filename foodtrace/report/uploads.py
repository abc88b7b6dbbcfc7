"""Who may upload which files, how large, how much per party; and collecting the files no
record names.

Only the roles whose records name files may upload, and only the kinds those records name:
a lab's ``report.issue`` names a PDF, an inspector's ``inspection.record`` names photos.
Producers write no record that names a file, so they upload nothing (a stolen shop token
cannot turn the service into free file hosting). A regulator's ``party.register`` names at
most its shopfront photo, so a regulator uploads only that, and only through the workbench's
扫街纳管 form (:data:`SHOPFRONT_PHOTO_UPLOADERS`), never through ``POST /api/v1/blobs``. The
kind is read from the bytes (magic numbers), never trusted from ``Content-Type``.

A rejected upload stores nothing: every check runs before the file is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from foodtrace.auth import Principal, Role
from foodtrace.config import Settings
from foodtrace.inspection.models import Inspection
from foodtrace.party.models import Party
from foodtrace.report import blobs
from foodtrace.report.models import BlobUpload, Report
from foodtrace.store.models import LogEntry

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
MAGIC: Final = ((b"%PDF-", PDF), (b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
IMAGES: Final = frozenset({JPEG, PNG})
Uploaders = Mapping[Role, frozenset[str]]
UPLOADERS: Final[Uploaders] = {
    Role.LAB: frozenset({PDF}),  # test reports
    Role.INSPECTOR: IMAGES,  # inspection photos
}
"""Who may upload what through ``POST /api/v1/blobs``."""
SHOPFRONT_PHOTO_UPLOADERS: Final[Uploaders] = {Role.REGULATOR: IMAGES}
"""Who may upload the shopfront photo of a business registered on the street (扫街纳管):
the regulator who registers it, an image, nothing else."""


class UploadRefused(Exception):
    """An upload that breaks a rule; ``status`` is the HTTP status a view should answer."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        self.status, self.title, self.detail = status, title, detail
        super().__init__(detail)


def sniff(data: bytes) -> str | None:
    """The media type the bytes begin with, or None for anything else."""
    for magic, media_type in MAGIC:
        if data.startswith(magic):
            return media_type
    return None


def stored_kind(data_dir: Path, sha256: str) -> str | None:
    """The media type of the stored file ``sha256``, or None if absent or unrecognised."""
    try:
        with blobs.blob_path(data_dir, sha256).open("rb") as fh:
            return sniff(fh.read(16))
    except (FileNotFoundError, ValueError):
        return None


def is_pdf(data_dir: Path, sha256: str) -> bool:
    """Whether the stored file ``sha256`` exists and is a PDF (a report names only PDFs,
    whatever another role uploaded under that hash)."""
    return stored_kind(data_dir, sha256) == PDF


def is_image(data_dir: Path, sha256: str) -> bool:
    """Whether the stored file ``sha256`` exists and is a JPEG or PNG (a shopfront photo)."""
    return stored_kind(data_dir, sha256) in IMAGES


@dataclass(frozen=True)
class Accepted:
    sha256: str
    size: int
    media_type: str


def accept(
    session: Session,
    settings: Settings,
    principal: Principal,
    data: bytes,
    declared: str | None,
    now: datetime | None = None,
    *,
    uploaders: Uploaders = UPLOADERS,
) -> Accepted:
    """Check the upload against the role, the kind, the size and the party's quota, then
    store it (once) and record who uploaded it. The caller commits. ``uploaders``: the
    rules of the route the file comes through (the blob API's, or one form's own)."""
    allowed = uploaders.get(principal.role)
    if allowed is None:
        roles = ", ".join(sorted(r.value for r in uploaders))
        raise UploadRefused(
            403,
            "Not allowed to upload files",
            f"the role {principal.role.value} writes no record that names a file; "
            f"expected one of: {roles}",
        )
    if not data:
        raise UploadRefused(422, "Empty file", "The request body is empty.")
    if len(data) > settings.blob_max_bytes:
        raise UploadRefused(
            413,
            "File too large",
            f"expected at most {settings.blob_max_bytes} bytes, got {len(data)}",
        )
    kind = sniff(data)
    if kind is None or kind not in allowed:
        what = kind or "unrecognised bytes"
        raise UploadRefused(
            415,
            "Unsupported file type",
            f"a {principal.role.value} may upload {', '.join(sorted(allowed))}; the file is {what}",
        )
    base_type = (declared or "").split(";", 1)[0].strip().lower()
    if base_type not in ("", kind, "application/octet-stream"):
        raise UploadRefused(
            415, "Unsupported file type", f"Content-Type says {base_type}, the bytes are {kind}"
        )
    digest = blobs.digest(data)
    mine = session.get(BlobUpload, (digest, principal.party_id))
    if mine is None:
        used = session.scalar(
            select(func.coalesce(func.sum(BlobUpload.size), 0)).where(
                BlobUpload.party == principal.party_id
            )
        )
        quota = settings.blob_quota_bytes_per_party
        if int(used or 0) + len(data) > quota:
            raise UploadRefused(
                413,
                "Upload quota exceeded",
                f"party {principal.party_id} stores {used} of its {quota} bytes; "
                f"this file needs {len(data)} more",
            )
    blobs.put(settings.data_dir, data)
    when = now or datetime.now(UTC)
    if mine is None:
        session.add(
            BlobUpload(
                sha256=digest,
                party=principal.party_id,
                media_type=kind,
                size=len(data),
                uploaded_at=when,
            )
        )
    else:
        mine.uploaded_at = when  # a re-upload restarts its grace period
    session.flush()
    return Accepted(digest, len(data), kind)


def referenced(session: Session) -> set[str]:
    """Every file a record names: report PDFs, inspection photos and the shopfront photos
    of registered parties (kept in their ``party.register`` entries, read from the log)."""
    names = set(session.scalars(select(Report.pdf_sha256)))
    for photos in session.scalars(select(Inspection.photos)):
        names.update(photos or ())
    registrations = select(LogEntry.data).join(Party, Party.entry_index == LogEntry.leaf_index)
    for data in session.scalars(registrations):
        photo = json.loads(bytes(data))["body"].get("shopfront_photo")
        if photo is not None:
            names.add(photo)
    return names


def _stored(data_dir: Path) -> Iterator[Path]:
    root = Path(data_dir) / "blobs" / "sha256"
    if root.is_dir():
        yield from (p for p in root.glob("??/*") if blobs.SHA256_HEX.match(p.name))


def collect_garbage(session: Session, settings: Settings, now: datetime | None = None) -> list[str]:
    """Delete every stored file that no record names and that nobody uploaded within the
    grace period (the time a client has between uploading a file and recording the entry
    that names it); returns their SHA-256s. Files from before uploads were tracked age by
    their modification time. The caller commits."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=settings.blob_gc_grace_seconds)
    keep = referenced(session)
    newest = {
        sha: last
        for sha, last in session.execute(
            select(BlobUpload.sha256, func.max(BlobUpload.uploaded_at)).group_by(BlobUpload.sha256)
        )
    }
    collected = []
    for path in _stored(settings.data_dir):
        sha = path.name
        if sha in keep:
            continue
        last = newest.get(sha)
        if last is None:
            last = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        elif last.tzinfo is None:
            last = last.replace(tzinfo=UTC)  # SQLite drops the zone
        if last >= cutoff:
            continue
        path.unlink(missing_ok=True)
        collected.append(sha)
    if collected:
        session.execute(delete(BlobUpload).where(BlobUpload.sha256.in_(collected)))
        session.flush()
    return sorted(collected)
