"""Fuzzing the parsers that read what strangers send, with hypothesis: canonical JSON and
entries, EPCIS capture documents, 食安码 / GS1 Digital Link codes, checkpoints and signed
notes, proof bundles, tile paths and Merkle proofs.

Each parser either returns a value or raises its module's named domain error (never a bare
``ValueError``, ``TypeError``, ``IndexError`` …); where a format has a writer, what it writes
parses back to the same value; a proof with any bit flipped does not verify.

Examples per property: ``FOODTRACE_FUZZ_EXAMPLES`` × 50 (default 2 × 50 = 100).
``atheris_fuzz.py`` runs the same parsers under atheris (libFuzzer) for long runs.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foodtrace.store import canonical
from foodtrace.trace import bundle, checkpoint, codes, cosignature, entry, keys, merkle, tlog_tiles
from foodtrace.trace.epcis import validate as epcis
from foodtrace.trace.errors import (
    CheckpointError,
    EntryError,
    MalformedInputError,
    VerificationError,
)

EXAMPLES = int(os.environ.get("FOODTRACE_FUZZ_EXAMPLES", "2")) * 50
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE_DOCS = sorted((Path(__file__).resolve().parents[1] / "data/epcis/examples").glob("*"))
KEY = keys.generate()

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)  # I-JSON's exact range
    | st.floats(allow_nan=False, allow_infinity=False, min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=16,
)
noisy_text = st.text(
    st.characters(codec="utf-8") | st.sampled_from("\n /?=#%&.:-_0123456789AZaz²٣"), max_size=200
)


# --- canonical JSON (RFC 8785) and entries ------------------------------------------------


@fuzz
@given(json_values)
def test_canonical_json_is_idempotent(value: Any) -> None:
    once = rfc8785.dumps(value)
    obj, simple = canonical.loads(once.decode())
    assert canonical.dumps(obj, simple) == once
    assert rfc8785.dumps(json.loads(once)) == once


@fuzz
@given(noisy_text)
def test_canonical_loads_refuses_by_value_error_only(text: str) -> None:
    with contextlib.suppress(ValueError):  # JSONDecodeError, DuplicateKeyError
        canonical.loads(text)


@fuzz
@given(st.binary(max_size=300) | noisy_text.map(str.encode))
def test_entry_loads_raises_entry_error_only(raw: bytes) -> None:
    try:
        entry.loads(raw)
    except EntryError as exc:
        assert exc.problems  # every refusal names what was wrong


@fuzz
@given(st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4), st.data())
def test_entry_round_trips_and_survives_mutation(body: dict[str, Any], data: st.DataObject) -> None:
    e = entry.sign(KEY, type="fuzz.test", author="fuzz-party", body=body)
    text = entry.dumps(e)
    assert entry.loads(text) == e
    raw = bytearray(text.encode())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(EntryError):
        entry.loads(bytes(raw))


# --- EPCIS capture documents --------------------------------------------------------------


def _mutate(doc: Any, data: st.DataObject, depth: int = 0) -> Any:
    """The document with one subtree replaced by arbitrary JSON."""
    if depth > 6 or not isinstance(doc, dict | list) or not doc or data.draw(st.booleans()):
        return data.draw(json_values)
    if isinstance(doc, dict):
        k = data.draw(st.sampled_from(sorted(doc)))
        return {**doc, k: _mutate(doc[k], data, depth + 1)}
    i = data.draw(st.integers(0, len(doc) - 1))
    return [*doc[:i], _mutate(doc[i], data, depth + 1), *doc[i + 1 :]]


@fuzz
@given(st.sampled_from(EXAMPLE_DOCS), st.data())
def test_epcis_validation_names_every_problem(path: Path, data: st.DataObject) -> None:
    document = _mutate(json.loads(path.read_text()), data)
    found = epcis.problems(document)
    for p in found:
        assert p.pointer == "" or p.pointer.startswith("/"), p
        assert p.message
    try:
        epcis.validate(document)
    except epcis.EPCISValidationError as exc:
        assert found and exc.problems
    else:
        assert not found


# --- 食安码 / GS1 Digital Link ------------------------------------------------------------

gs1_text = st.text(alphabet="ABCXYZabcxyz0123456789-._", min_size=1, max_size=20)


@fuzz
@given(noisy_text | st.builds(lambda s: "https://ft.example/" + s, noisy_text))
def test_parse_code_raises_code_error_only(text: str) -> None:
    with contextlib.suppress(codes.CodeError):
        codes.parse_code(text)


@fuzz
@given(
    st.sampled_from(["https://ft.example", "http://127.0.0.1:8000", "https://a.example/p"]),
    st.one_of(
        st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,30}\Z").map(codes.Merchant),
        st.builds(codes.Lot, st.just("06901234100020"), gs1_text),
        st.builds(codes.Serial, st.just("06901234100020"), gs1_text),
    ),
    st.booleans(),
)
def test_code_round_trips(base: str, subject: codes.Subject, qr: bool) -> None:
    code = codes.sign_code(base, subject, KEY)
    parsed = codes.parse_code(code.qr_text if qr else code.url)
    assert parsed == code
    codes.verify_code(parsed, [KEY.public_key()])


# --- checkpoints, signed notes, cosignatures, proof bundles, tile paths ------------------


@fuzz
@given(noisy_text)
def test_note_and_checkpoint_parsers_raise_checkpoint_errors_only(text: str) -> None:
    vkey = checkpoint.verifier_key("fuzz.example/log", KEY)
    for parse in (
        lambda: checkpoint.verify_note(text, [vkey]),
        lambda: checkpoint.verify_note(text.encode(), [vkey]),
        lambda: checkpoint.parse_body(text),
        lambda: checkpoint.parse_verifier_key(text),
        lambda: cosignature.parse_cosigner_vkey(text),
        lambda: checkpoint.verify_checkpoint(text, [vkey]),
    ):
        with contextlib.suppress(CheckpointError):
            parse()


@fuzz
@given(st.binary(max_size=200))
def test_note_bytes_raise_checkpoint_errors_only(raw: bytes) -> None:
    vkey = checkpoint.verifier_key("fuzz.example/log", KEY)
    with contextlib.suppress(CheckpointError):
        checkpoint.verify_note(raw, [vkey])


@fuzz
@given(
    st.text(alphabet="abc./-", min_size=1, max_size=20),
    st.integers(0, 2**63 - 1),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(alphabet="abc xyz", min_size=1, max_size=10), max_size=2),
    st.data(),
)
def test_checkpoint_round_trips_and_a_flipped_bit_fails(
    origin: str, size: int, root: bytes, ext: list[str], data: st.DataObject
) -> None:
    cp = checkpoint.Checkpoint(origin, size, root, tuple(ext))
    assert checkpoint.parse_body(cp.body()) == cp
    name = "fuzz.example/log"
    note = checkpoint.sign_checkpoint(cp, name, KEY)
    vkey = checkpoint.verifier_key(name, KEY)
    assert checkpoint.verify_checkpoint(note, [vkey]) == cp
    raw = bytearray(note.encode())
    i = data.draw(st.integers(0, len(raw) - 1))
    raw[i] ^= 1 << data.draw(st.integers(0, 7))
    try:
        got = checkpoint.verify_checkpoint(bytes(raw).decode("utf-8", "replace"), [vkey])
    except CheckpointError:
        return
    assert got != cp or bytes(raw).decode("utf-8", "replace") == note


number_like = st.text(alphabet="0123456789²٣ -", min_size=1, max_size=6)
bundle_fields = st.fixed_dictionaries(
    {},
    optional={
        "index": json_values | st.integers(),
        "proof": json_values | st.lists(st.text(alphabet="AQ=", max_size=8), max_size=3),
        "checkpoint": json_values,
        "extra": json_values,
    },
)


@fuzz
@given(noisy_text, number_like)
def test_bundle_text_raises_malformed_input_only(text: str, number: str) -> None:
    for candidate in (
        text,
        f"{bundle.HEADER}\n{text}",
        f"{bundle.HEADER}\nindex {number}\n{text}\n\n{text}",
    ):
        with contextlib.suppress(MalformedInputError):
            bundle.from_text(candidate)


@fuzz
@given(json_values | bundle_fields.map(lambda d: {"index": 0, "proof": [], "checkpoint": "", **d}))
def test_bundle_json_raises_malformed_input_only(value: Any) -> None:
    with contextlib.suppress(MalformedInputError):
        bundle.from_json(value)


@fuzz
@given(
    st.integers(0, 2**40),
    st.lists(st.binary(min_size=32, max_size=32), max_size=5),
    st.text(max_size=40),
    st.none() | st.binary(max_size=8),
)
def test_bundle_round_trips(index: int, proof: list[bytes], cp: str, extra: bytes | None) -> None:
    b = bundle.ProofBundle(index, tuple(proof), cp, extra)
    assert bundle.from_json(b.to_json()) == b
    if "\n\n" not in cp:
        assert bundle.from_text(b.to_text()) == b


@fuzz
@given(noisy_text)
def test_tile_paths_raise_tile_path_error_only(text: str) -> None:
    try:
        ref = tlog_tiles.parse_path(text)
    except tlog_tiles.TilePathError:
        return
    assert tlog_tiles.parse_path(ref.path()) == ref


# --- Merkle proofs ------------------------------------------------------------------------


@fuzz
@given(st.integers(1, 40), st.data())
def test_inclusion_proof_fails_on_any_bit_flip(size: int, data: st.DataObject) -> None:
    tree = merkle.MemoryTree.of([f"leaf {i}".encode() for i in range(size)])
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, tree.read)
    leaf, root = tree.leaves[index], tree.root()
    merkle.verify_inclusion(index, size, leaf, proof, root)
    target = data.draw(st.sampled_from(["leaf", "root", *(["proof"] if proof else [])]))
    bit = data.draw(st.integers(0, 255))
    flip = _flipper(bit)
    if target == "proof":
        k = data.draw(st.integers(0, len(proof) - 1))
        proof = [flip(h) if j == k else h for j, h in enumerate(proof)]
    elif target == "leaf":
        leaf = flip(leaf)
    else:
        root = flip(root)
    try:
        merkle.verify_inclusion(index, size, leaf, proof, root)
    except VerificationError:
        return
    raise AssertionError(f"a flipped bit {bit} of the {target} still verified")


@fuzz
@given(st.integers(1, 40), st.data())
def test_consistency_proof_fails_on_any_bit_flip(size2: int, data: st.DataObject) -> None:
    tree = merkle.MemoryTree.of([f"leaf {i}".encode() for i in range(size2)])
    size1 = data.draw(st.integers(1, size2))
    proof = merkle.consistency_proof(size1, size2, tree.read)
    root1, root2 = tree.root(size1), tree.root()
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    if not proof:
        return  # equal sizes: nothing to flip but the roots, covered by the inclusion test
    k = data.draw(st.integers(0, len(proof) - 1))
    flip = _flipper(data.draw(st.integers(0, 255)))
    bad = [flip(h) if j == k else h for j, h in enumerate(proof)]
    try:
        merkle.verify_consistency(size1, size2, bad, root1, root2)
    except VerificationError:
        return
    raise AssertionError("a consistency proof with a flipped bit still verified")


@fuzz
@given(
    st.integers(-5, 2**64),
    st.integers(-5, 2**64),
    st.lists(st.binary(max_size=40), max_size=70),
    st.binary(max_size=40),
    st.binary(max_size=40),
)
def test_proof_verifiers_raise_verification_errors_only(
    a: int, b: int, proof: list[bytes], h1: bytes, h2: bytes
) -> None:
    for check in (
        lambda: merkle.verify_inclusion(a, b, h1, proof, h2),
        lambda: merkle.verify_consistency(a, b, proof, h1, h2),
    ):
        with contextlib.suppress(VerificationError):
            check()


def _flipper(bit: int) -> Any:
    def flip(h: bytes) -> bytes:
        out = bytearray(h)
        out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
        return bytes(out)

    return flip


def test_example_documents_are_there() -> None:
    assert len(EXAMPLE_DOCS) > 10  # the EPCIS mutations start from the GS1 examples
