"""The CBV 2.0 event hash id against reference vectors, and its invariances."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from foodtrace.trace.epcis import events, gs1keys, hashing

VECTORS = Path(__file__).parent / "data" / "hash_vectors"
DOC = json.loads((VECTORS / "epcisDocWithVariousEventTypes.jsonld").read_text())
PREHASHES = (VECTORS / "epcisDocWithVariousEventTypes.prehashes").read_text().splitlines()
HASHES = (VECTORS / "epcisDocWithVariousEventTypes.hashes").read_text().split()

EVENT: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2024-05-01T09:30:00+08:00",
    "eventTimeZoneOffset": "+08:00",
    "epcList": ["urn:epc:id:sgtin:6901234.012345.1001", "urn:epc:id:sgtin:6901234.012345.1002"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0"},
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:6901234.00000"}],
}


def test_reference_vectors_are_self_consistent() -> None:
    assert len(PREHASHES) == len(HASHES) == 13
    for pre, expected in zip(PREHASHES, HASHES, strict=True):
        digest = hashlib.sha256(pre.encode()).hexdigest()
        assert f"ni:///sha-256;{digest}?ver=CBV2.0" == expected


@pytest.mark.parametrize("index", range(13))
def test_pre_hash_string_matches_reference(index: int) -> None:
    prefixes = hashing.context_prefixes(DOC["@context"])
    event = events.event_list(DOC)[index]
    assert hashing.pre_hash_string(event, prefixes) == PREHASHES[index]


def test_document_hash_ids_match_reference() -> None:
    assert hashing.document_hash_ids(DOC) == HASHES


def _id(event: dict[str, Any]) -> str:
    return hashing.event_hash_id(event)


def test_deterministic_and_well_formed() -> None:
    first = _id(EVENT)
    assert first == _id(copy.deepcopy(EVENT))
    assert first.startswith("ni:///sha-256;") and first.endswith("?ver=CBV2.0")
    assert len(first.split(";")[1].split("?")[0]) == 64


@pytest.mark.parametrize(
    "variant",
    [
        {"bizStep": "urn:epcglobal:cbv:bizstep:shipping"},
        {"bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"},
        {"disposition": "urn:epcglobal:cbv:disp:in_transit"},
        {"eventTime": "2024-05-01T01:30:00Z"},
        {"eventTime": "2024-05-01T01:30:00.000000+00:00"},
        {"eventTime": "2024-04-30T20:30:00.000-05:00"},
        {
            "epcList": [
                "urn:epc:id:sgtin:6901234.012345.1002",
                "urn:epc:id:sgtin:6901234.012345.1001",
            ]
        },
        {
            "epcList": [
                "https://example.cn/01/06901234123456/21/1001?linkType=all",
                "https://id.gs1.org/01/06901234123456/10/LOT9/21/1002",
            ]
        },
        {"readPoint": {"id": "https://id.gs1.org/414/6901234000016"}},
        {"readPoint": {"id": "https://trace.example.cn/gln/6901234000016?from=qr"}},
        {
            "epcList": [
                "https://shop.example.cn/gtin/06901234123456/ser/1001?src=wechat",
                "https://id.gs1.org/01/6901234123456/22/v2/21/1002",
            ]
        },
        {
            "sourceList": [
                {
                    "source": "urn:epc:id:pgln:6901234.00000",
                    "type": "urn:epcglobal:cbv:sdt:owning_party",
                }
            ]
        },
        {"eventID": "urn:uuid:0b1c5a3e-3e1f-4e8b-9a55-000000000001"},
        {"recordTime": "2024-05-02T00:00:00Z"},
        {"errorDeclaration": {"declarationTime": "2024-05-03T00:00:00Z"}},
    ],
)
def test_semantically_equal_variants_share_the_id(variant: dict[str, Any]) -> None:
    assert _id({**EVENT, **variant}) == _id(EVENT)


def test_nested_extensions_and_alert_types_are_spelled_one_way() -> None:
    reading = {
        "sensorMetadata": {"time": "2024-05-01T09:00:00+08:00", "example:probe": "p1"},
        "sensorReport": [{"type": "Temperature", "exception": "ALARM_CONDITION", "value": 9}],
    }
    first = {
        **EVENT,
        "@context": [{"example": "https://example.cn/ns/"}],
        "readPoint": {"id": "urn:epc:id:sgln:6901234.00001.0", "example:dock": "3"},
        "sensorElementList": [reading],
    }
    second = copy.deepcopy(first)
    second["readPoint"] = {"https://example.cn/ns/dock": "3.0", "id": first["readPoint"]["id"]}
    second["sensorElementList"][0]["sensorReport"][0]["exception"] = "gs1:ALARM_CONDITION"
    ids = [
        hashing.document_hash_ids({"@context": e.pop("@context"), "epcisBody": {"eventList": [e]}})
        for e in (copy.deepcopy(first), second)
    ]
    assert ids[0] == ids[1]
    pre = hashing.pre_hash_string(first, {"example": "https://example.cn/ns/"})
    assert "exception=https://ref.gs1.org/voc/ALARM_CONDITION" in pre
    nested = "readPoint{https://example.cn/ns/}dock=3sensorElementsensorMetadata"
    assert pre.endswith(nested + "{https://example.cn/ns/}probe=p1")
    moved = copy.deepcopy(first)
    moved["readPoint"]["example:dock"] = "4"
    assert hashing.event_hash_id(moved, {"example": "https://example.cn/ns/"}) != ids[0][0]


def test_key_order_does_not_matter() -> None:
    reordered = dict(reversed(list(EVENT.items())))
    assert _id(reordered) == _id(EVENT)


@pytest.mark.parametrize(
    "change",
    [
        {"bizStep": "receiving"},
        {"disposition": "recalled"},
        {"eventTime": "2024-05-01T09:30:00.001+08:00"},
        {"eventTimeZoneOffset": "+09:00"},
        {"epcList": ["urn:epc:id:sgtin:6901234.012345.1001"]},
        {"action": "ADD"},
        {"readPoint": {"id": "urn:epc:id:sgln:6901234.00002.0"}},
        {"sourceList": [{"type": "possessing_party", "source": "urn:epc:id:pgln:6901234.00000"}]},
        {"ilmd": {"cbvmda:lotNumber": "L1"}},
        {"example:note": "x"},
        {"type": "TransactionEvent"},
    ],
)
def test_real_changes_change_the_id(change: dict[str, Any]) -> None:
    assert _id({**EVENT, **change}) != _id(EVENT)


def test_sensor_reports_are_hashed_in_canonical_form() -> None:
    sensor = {
        **EVENT,
        "sensorElementList": [
            {
                "sensorMetadata": {
                    "time": "2024-05-01T09:00:00+08:00",
                    "deviceID": "urn:epc:id:giai:6901234.7",
                },
                "sensorReport": [
                    {"type": "Temperature", "value": 4.50, "uom": "CEL"},
                    {"type": "gs1:RelativeHumidity", "value": 80, "uom": "P1"},
                ],
            }
        ],
    }
    pre = hashing.pre_hash_string(sensor)
    assert (
        "sensorElementsensorMetadatatime=2024-05-01T01:00:00.000Z"
        "deviceID=https://id.gs1.org/8004/69012347"
        "sensorReporttype=https://ref.gs1.org/voc/RelativeHumidityvalue=80uom=P1"
        "sensorReporttype=https://ref.gs1.org/voc/Temperaturevalue=4.5uom=CEL"
    ) in pre
    warmer = copy.deepcopy(sensor)
    warmer["sensorElementList"][0]["sensorReport"][0]["value"] = 8.0
    assert _id(warmer) != _id(sensor)


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (1.0, "1"), (0.3430, "0.343"), (26.20, "26.2"), (1e-7, "0.0000001"), (-0.0, "0")],
)
def test_number_has_no_trailing_zeros(value: float, text: str) -> None:
    assert hashing.number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z"),
        ("2020-03-04T10:00:30.1Z", "2020-03-04T10:00:30.100Z"),
        ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),
        ("2023-12-31T23:59:59.9996Z", "2024-01-01T00:00:00.000Z"),
        ("2005-04-03T20:33:31.116000-06:00", "2005-04-04T02:33:31.116Z"),
    ],
)
def test_timestamp_canonical_form(value: str, text: str) -> None:
    assert hashing.timestamp(value) == text


@pytest.mark.parametrize(
    ("identifier", "canonical"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2018", "https://id.gs1.org/01/10614141073464/21/2018"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        ("urn:epc:id:sgln:0614141.12345.400", "https://id.gs1.org/414/0614141123452/254/400"),
        (
            "urn:epc:class:lgtin:4012345.012345.998877",
            "https://id.gs1.org/01/04012345123456/10/998877",
        ),
        (
            "https://shop.example/01/9506000134352/10/ABC?x=1",
            "https://id.gs1.org/01/09506000134352/10/ABC",
        ),
        ("urn:epcglobal:cbv:bt:5200001000008:4711", "urn:epcglobal:cbv:bt:5200001000008:4711"),
        ("https://example.com/no/keys/here", "https://example.com/no/keys/here"),
    ],
)
def test_identifier_canonical_forms(identifier: str, canonical: str) -> None:
    assert gs1keys.canonical(identifier) == canonical


def test_official_examples_all_hash(testdata: Path) -> None:
    ids = []
    for path in sorted((testdata / "epcis/examples").glob("*.jsonld")):
        ids += hashing.document_hash_ids(json.loads(path.read_text()))
    assert len(ids) == 56
    assert all(i.startswith("ni:///sha-256;") for i in ids)
