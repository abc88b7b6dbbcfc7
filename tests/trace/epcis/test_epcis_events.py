"""Event extraction over the official examples and the stored-vs-captured comparison."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

from foodtrace.trace.epcis import events

EXAMPLES = "epcis/examples"


def _doc(testdata: Path, name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((testdata / EXAMPLES / name).read_text())
    return loaded


def test_every_example_event_is_extracted(testdata: Path) -> None:
    kinds: Counter[str] = Counter()
    for path in sorted((testdata / EXAMPLES).glob("*.jsonld")):
        for fact in events.facts(json.loads(path.read_text())):
            kinds[fact.type] += 1
            assert fact.event_time.utcoffset() is not None
    assert set(kinds) == {
        "ObjectEvent",
        "AggregationEvent",
        "TransformationEvent",
        "TransactionEvent",
        "AssociationEvent",
    }
    assert sum(kinds.values()) == 56


def test_query_document_events(testdata: Path) -> None:
    facts = events.facts(_doc(testdata, "EPCISQueryDocument.jsonld"))
    assert [f.biz_step for f in facts] == ["shipping", "receiving"]


def test_object_event_facts(testdata: Path) -> None:
    first = events.facts(_doc(testdata, "Example_9.6.1-ObjectEvent.jsonld"))[0]
    assert first.type == "ObjectEvent"
    assert first.biz_step == "shipping" and first.disposition == "in_transit"
    assert first.event_time.isoformat() == "2005-04-04T02:33:31.116000+00:00"
    assert first.all_epcs == (
        "urn:epc:id:sgtin:0614141.107346.2017",
        "urn:epc:id:sgtin:0614141.107346.2018",
    )
    assert first.read_point == "urn:epc:id:sgln:0614141.07346.1234"
    assert first.biz_transactions[0].type == "po"


def test_aggregation_and_transformation_roles(testdata: Path) -> None:
    aggregation = events.facts(_doc(testdata, "Example_9.6.3-AggregationEvent.jsonld"))[0]
    assert aggregation.epcs["parentID"] == ("urn:epc:id:sscc:0614141.1234567890",)
    assert len(aggregation.epcs["childEPCs"]) == 2
    assert {q.role for q in aggregation.quantities} == {"childQuantityList"}
    transformation = events.facts(_doc(testdata, "Example_9.6.4-TransformationEvent.jsonld"))[0]
    roles = {q.role for q in transformation.quantities}
    assert "inputQuantityList" in roles
    assert transformation.epcs["outputEPCList"]


def test_parties_and_quantities(testdata: Path) -> None:
    fact = events.facts(_doc(testdata, "Example_9.6.2-ObjectEvent.jsonld"))[0]
    assert {p.type for p in fact.sources} <= {"owning_party", "possessing_party", "location"}
    assert fact.sources and fact.destinations
    assert all(q.role == "quantityList" and q.quantity is not None for q in fact.quantities)


def test_sensor_readings(testdata: Path) -> None:
    fact = events.facts(_doc(testdata, "WithSensorData__SensorDataExample1.jsonld"))[0]
    temperatures = [r for r in fact.sensor_readings if r.type == "Temperature"]
    assert [r.value for r in temperatures] == [26.0, 26.1, 26.2]
    assert {r.uom for r in temperatures} == {"CEL"}
    assert all(r.time and r.device_id for r in temperatures)


def test_cbv_spellings_index_the_same() -> None:
    base = {"type": "ObjectEvent", "eventTime": "2024-01-01T00:00:00Z", "action": "OBSERVE"}
    bare = events.extract({**base, "bizStep": "shipping", "disposition": "recalled"})
    urn = events.extract(
        {
            **base,
            "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
            "disposition": "https://ref.gs1.org/cbv/Disp-recalled",
        }
    )
    assert (bare.biz_step, bare.disposition) == (urn.biz_step, urn.disposition)
    custom = events.extract({**base, "bizStep": "https://example.cn/bizstep/cold_storage"})
    assert custom.biz_step == "https://example.cn/bizstep/cold_storage"


def test_stored_event_compares_equal_to_captured(testdata: Path) -> None:
    captured = events.event_list(_doc(testdata, "Example_9.6.2-ObjectEvent.jsonld"))[0]
    captured = {k: v for k, v in captured.items() if k != "eventID"}
    stored = copy.deepcopy(captured)
    stored["eventID"] = "ni:///sha-256;00?ver=CBV2.0"
    stored["recordTime"] = "2024-01-01T00:00:00Z"
    stored["bizStep"] = "urn:epcglobal:cbv:bizstep:" + captured["bizStep"]
    assert events.same_event(stored, captured)
    stored["disposition"] = "recalled"
    assert not events.same_event(stored, captured)


def test_author_given_event_id_must_survive(testdata: Path) -> None:
    captured = events.event_list(_doc(testdata, "Example_9.6.2-ObjectEvent.jsonld"))[0]
    stored = {**captured, "eventID": "urn:uuid:other"}
    assert not events.same_event(stored, captured)
    assert events.same_event({**captured, "recordTime": "2024-01-01T00:00:00Z"}, captured)
