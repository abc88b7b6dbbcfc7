"""The event hash against every JSON-LD example of the GS1 reference implementation.

Inputs and expected outputs are the reference's own files (``data/hash_reference/``, source
and commit in its README): two parties that capture the same event get the same id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foodtrace.trace.epcis import events, gs1keys, hashing

DATA = Path(__file__).parent / "data" / "hash_reference"
DOCUMENTS = sorted((DATA / "documents").glob("*.json*"))
VECTORS = json.loads((DATA / "dl_normaliser_vectors.json").read_text())["vectors"]


def _expected(name: str, suffix: str) -> list[str] | None:
    for version in ("CBV2.0", "CBV2.1"):
        path = DATA / "expected" / version / f"{name}.{suffix}"
        if path.exists() and (version == "CBV2.0" or suffix == "prehashes"):
            return path.read_text("utf-8").splitlines()
    return None


def test_every_reference_document_is_here() -> None:
    assert len(DOCUMENTS) == 22  # 16 .jsonld and 6 .json, all JSON-LD
    for path in DOCUMENTS:
        assert _expected(path.stem, "hashes") or _expected(path.stem, "prehashes"), path.stem


@pytest.mark.parametrize("path", DOCUMENTS, ids=[p.stem for p in DOCUMENTS])
def test_event_hash_matches_reference(path: Path) -> None:
    document = json.loads(path.read_text("utf-8"))
    prefixes = hashing.context_prefixes(document.get("@context"))
    found = events.event_list(document)
    hashes = _expected(path.stem, "hashes")
    prehashes = _expected(path.stem, "prehashes")
    if prehashes is not None:
        assert [hashing.pre_hash_string(e, prefixes) for e in found] == prehashes
    if hashes is not None:
        assert hashing.document_hash_ids(document) == hashes


@pytest.mark.parametrize(("identifier", "expected"), VECTORS, ids=[v[0] for v in VECTORS])
def test_identifier_normalisation_matches_reference(identifier: str, expected: str | None) -> None:
    assert gs1keys.canonical(identifier) == (expected if expected is not None else identifier)
