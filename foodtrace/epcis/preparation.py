"""The CPU-heavy half of a capture, as one plain function of bytes: parse the document,
refuse it with every problem named, or build its signed entries.

It runs in a capture process (:mod:`foodtrace.epcis.pool`) so that JSON parsing, JSON
Schema validation, CBV hashing, RFC 8785 canonicalisation and Ed25519 signing of 10,000
events do not hold the GIL of the interpreter serving pages. What comes back is small to
unpickle: the refusal as plain data, or per-event ids and the signed entries pickled in
chunks of :data:`ENTRIES_PER_CHUNK`, which the capture's thread loads one at a time (each a
short hold of the GIL). The database half (master data refusals, duplicates, custody, the
append) stays with the caller.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.api.problems import FieldProblem, Problem, problem_type
from foodtrace.epcis import limits, service
from foodtrace.masterdata import service as masterdata
from foodtrace.record.service import body_problems
from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry, now_rfc3339

JSON_TYPES: Final = ("application/json", "application/ld+json")
ENTRIES_PER_CHUNK: Final = 64
"""Signed entries per pickled chunk: loading one holds the GIL well under a millisecond."""


@dataclass(frozen=True)
class Refusal:
    """A :class:`Problem` as plain data (an exception dataclass does not pickle back)."""

    status: int
    title: str
    detail: str | None
    type_uri: str
    errors: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, problem: Problem) -> Refusal:
        errors = tuple((e.pointer, e.detail) for e in problem.errors)
        return cls(problem.status, problem.title, problem.detail, problem.type_uri, errors)

    def problem(self) -> Problem:
        errors = [FieldProblem(p, d) for p, d in self.errors]
        return Problem(self.status, self.title, self.detail, self.type_uri, errors)


@dataclass(frozen=True)
class PreparedCapture:
    """A valid document, ready to append: what the capture job and the duplicate check
    need, the header (for master data refusals) and, when a key was given, the entries."""

    document_id: str | None
    pointers: list[str]
    """Where each entry came from: the events (``/epcisBody/eventList/3``), then the
    master data elements of the header."""
    event_ids: list[str]
    event_keys: list[tuple[str, bool]]
    """``(hash id, declares error)`` of each event: what makes it a duplicate."""
    header: dict[str, Any]
    chunks: list[bytes] = field(default_factory=list)
    bodies_checked: bool = False
    """Every entry body passed its type's model (the write path need not run it again)."""

    @property
    def event_count(self) -> int:
        return len(self.event_ids)

    def entries(self) -> list[Entry]:
        """The signed entries, loaded chunk by chunk."""
        out: list[Entry] = []
        for chunk in self.chunks:
            out += pickle.loads(chunk)
        return out


def prepare_capture(
    raw: bytes,
    content_type: str,
    max_events: int,
    party_id: str,
    private_key: bytes | None,
) -> PreparedCapture | Refusal:
    """Refuse the document (415, 400, 413 before any validation, 422 naming every
    problem), or prepare it: signed with ``private_key`` (raw Ed25519) when given."""
    try:
        document = json_body(content_type, raw)
        too_many = limits.too_many_events(document, max_events)
        if too_many is not None:
            return Refusal.of(too_many)
        found = service.document_problems(document)
        if found:
            return Refusal.of(service.refusal(found))
    except Problem as exc:
        return Refusal.of(exc)
    assert isinstance(document, dict)
    prepared = service.prepare(document, now_rfc3339())
    header = masterdata.header_entries(document)
    doc_id = document.get("id")
    out = PreparedCapture(
        document_id=doc_id if isinstance(doc_id, str) else None,
        pointers=[p.pointer for p in prepared] + [at for at, _, _ in header],
        event_ids=[p.event_id for p in prepared],
        event_keys=[(p.hash_id, p.declares_error) for p in prepared],
        header={"epcisHeader": document["epcisHeader"]} if "epcisHeader" in document else {},
    )
    if private_key is None:
        return out
    items = [(service.ENTRY_TYPE, p.body()) for p in prepared] + [(t, b) for _, t, b in header]
    entries = _signed(Ed25519PrivateKey.from_private_bytes(private_key), party_id, items)
    checked = all(not body_problems(service.EventBody, p.body(), "/body") for p in prepared)
    chunks = [
        pickle.dumps(entries[i : i + ENTRIES_PER_CHUNK], protocol=pickle.HIGHEST_PROTOCOL)
        for i in range(0, len(entries), ENTRIES_PER_CHUNK)
    ]
    return PreparedCapture(
        out.document_id,
        out.pointers,
        out.event_ids,
        out.event_keys,
        out.header,
        chunks,
        bodies_checked=checked and not header,
    )


def _signed(
    key: Ed25519PrivateKey, party_id: str, items: Sequence[tuple[str, dict[str, Any]]]
) -> list[Entry]:
    """Signed entries whose canonical bytes (signed and leaf) are already computed: they
    travel with the pickled entry, so neither the write path nor the log does RFC 8785
    again."""
    entries = [entry_mod.sign(key, type=t, author=party_id, body=b) for t, b in items]
    for e in entries:
        e.leaf_data()
    return entries


def json_body(content_type: str, raw: bytes) -> object:
    """The parsed body: 415 unless JSON or JSON-LD, 400 if not valid JSON."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES:
        raise Problem(
            415,
            "Unsupported Media Type",
            f"expected {' or '.join(JSON_TYPES)}, got {media or 'no Content-Type'}",
            problem_type("unsupported-media-type"),
            [FieldProblem("/header/content-type", f"expected one of {', '.join(JSON_TYPES)}")],
        )
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Problem(
            400,
            "Malformed JSON",
            "The request body is not valid JSON.",
            problem_type("malformed-json"),
            [FieldProblem("/body", f"expected valid JSON: {exc}")],
        ) from exc
