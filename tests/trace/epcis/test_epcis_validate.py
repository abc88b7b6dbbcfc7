"""Validation against the official GS1 schema: all examples pass, mutations fail as expected."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from foodtrace.trace.epcis import validate
from foodtrace.trace.epcis.validate import EPCISValidationError

DATA = Path(__file__).parent / "data"
PACKAGE_DATA = Path(validate.__file__).parent / "data"
MUTATIONS = json.loads((DATA / "mutations.json").read_text())["cases"]


def _examples(testdata: Path) -> list[Path]:
    return sorted((testdata / "epcis/examples").glob("*.jsonld"))


def test_bundled_schema_and_context_equal_the_official_files(testdata: Path) -> None:
    for name in ("EPCIS-JSON-Schema.json", "epcis-context.jsonld"):
        official = (testdata / "epcis" / name).read_bytes()
        assert (PACKAGE_DATA / name).read_bytes() == official, name


def test_all_47_official_examples_are_valid(testdata: Path) -> None:
    examples = _examples(testdata)
    assert len(examples) == 47
    failures = {p.name: validate.problems(json.loads(p.read_text())) for p in examples}
    assert {name: probs for name, probs in failures.items() if probs} == {}


def test_cbv_word_lists_cover_the_schema_enums() -> None:
    cbv = json.loads((PACKAGE_DATA / "cbv.json").read_text())
    definitions = validate.schema()["definitions"]
    for field, definition in (("bizStep", "bizStep"), ("disposition", "disposition")):
        enum = next(a["enum"] for a in definitions[definition]["anyOf"] if "enum" in a)
        assert set(enum) == set(cbv[field])


def _mutate(document: dict[str, Any], ops: list[list[Any]]) -> None:
    for op in ops:
        parts = op[1].strip("/").split("/")
        node: Any = document
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        key: Any = int(parts[-1]) if isinstance(node, list) else parts[-1]
        if op[0] == "set":
            node[key] = op[2]
        else:
            del node[key]


@pytest.mark.parametrize("case", MUTATIONS, ids=[c["name"] for c in MUTATIONS])
def test_mutated_example_reports_expected_problems(testdata: Path, case: dict[str, Any]) -> None:
    document = json.loads((testdata / "epcis/examples" / case["example"]).read_text())
    assert validate.problems(document) == []
    _mutate(document, case["ops"])
    found = validate.problems(document)
    assert [p.pointer for p in found] == [e[0] for e in case["expect"]]
    for problem, (_, fragment) in zip(found, case["expect"], strict=True):
        assert fragment in problem.message
    with pytest.raises(EPCISValidationError) as err:
        validate.validate(document)
    assert err.value.problems == found


def test_urn_and_web_uri_spellings_of_cbv_values_are_accepted(testdata: Path) -> None:
    path = testdata / "epcis/examples/Example_9.6.1-ObjectEvent.jsonld"
    document = json.loads(path.read_text())
    event = document["epcisBody"]["eventList"][0]
    event["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    event["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    event["bizTransactionList"][0]["type"] = "urn:epcglobal:cbv:btt:po"
    original = copy.deepcopy(document)
    assert validate.problems(document) == []
    assert document == original  # validation never rewrites the caller's document


def test_custom_vocabulary_uris_are_accepted(testdata: Path) -> None:
    path = testdata / "epcis/examples/Example_9.6.1-ObjectEvent.jsonld"
    document = json.loads(path.read_text())
    document["epcisBody"]["eventList"][0]["bizStep"] = "https://example.cn/bizstep/cold_storage"
    assert validate.problems(document) == []


@pytest.mark.parametrize(
    ("document", "pointer"),
    [([], ""), ({"type": "Something"}, "/type"), ({}, "/type")],
)
def test_not_a_document(document: object, pointer: str) -> None:
    [problem] = validate.problems(document)
    assert problem.pointer == pointer


def test_context_urls_resolve_locally() -> None:
    for url in validate.CONTEXT_URLS:
        assert validate.load_context(url) == validate.context()
    with pytest.raises(KeyError):
        validate.load_context("https://example.com/context.jsonld")
