"""The pure SimpleEventQuery parser and the query facts of an event (no database)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from foodtrace.trace.epcis import query_facts
from foodtrace.trace.epcis import query_filters as qf
from foodtrace.trace.epcis import query_params as qp


def test_values_normalise_and_alternatives_combine() -> None:
    parsed = qp.parse(
        [
            ("EQ_bizStep", "urn:epcglobal:cbv:bizstep:shipping|receiving"),
            ("EQ_bizStep", "https://ref.gs1.org/cbv/BizStep-packing"),
            ("EQ_source_urn:epcglobal:cbv:sdt:owning_party", "urn:epc:id:pgln:4012345.00000"),
        ]
    )
    assert parsed.filters == (
        qf.ColumnIn("biz_step", ("shipping", "receiving", "packing")),
        qf.PartyIn("source", "owning_party", ("urn:epc:id:pgln:4012345.00000",)),
    )


def test_every_bad_parameter_is_named() -> None:
    with pytest.raises(qp.QueryParamError) as caught:
        qp.parse(
            [
                ("MATCH_anyEPClass", "x"),
                ("GE_eventTime", "2025-03-01T00:00:00"),
                ("GE_eventTime", "2025-03-02T00:00:00Z"),
                ("eventCountLimit", "0"),
                ("EQ_INNER_nofield", "x"),
            ]
        )
    assert [name for name, _ in caught.value.problems] == [
        "MATCH_anyEPClass",
        "GE_eventTime",
        "eventCountLimit",
        "EQ_INNER_nofield",
    ]
    assert "one value" in caught.value.problems[1][1]


def test_order_direction_defaults_to_desc_only_with_order_by() -> None:
    assert not qp.parse([]).descending
    assert qp.parse([("orderBy", "recordTime")]).descending
    ordered = qp.parse([("orderBy", "recordTime"), ("orderDirection", "ASC")])
    assert ordered.order_by == "record_time" and not ordered.descending


def test_fingerprint_names_the_filters_not_their_order() -> None:
    a = qp.parse([("EQ_action", "ADD"), ("eventType", "ObjectEvent")])
    b = qp.parse([("eventType", "ObjectEvent"), ("EQ_action", "ADD")])
    c = qp.parse([("eventType", "ObjectEvent")])
    assert a.fingerprint == b.fingerprint != c.fingerprint


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (
            "urn:epc:id:sgtin:4012345.011111.1001",
            ("exact", "https://id.gs1.org/01/04012345111118/21/1001"),
        ),
        (
            "urn:epc:idpat:sgtin:4012345.011111.*",
            ("prefix", "https://id.gs1.org/01/04012345111118"),
        ),
        ("urn:epc:idpat:sgtin:4012345.*.*", ("like", "https://id.gs1.org/01/_4012345%")),
        ("urn:epc:idpat:sscc:4012345.*", ("like", "https://id.gs1.org/00/_4012345%")),
        ("urn:epc:idpat:sgln:4012345.00001.*", ("prefix", "https://id.gs1.org/414/4012345000016")),
        ("urn:epc:idpat:grai:4012345.55555.*", ("like", "https://id.gs1.org/8003/04012345555554%")),
    ],
)
def test_epc_patterns(pattern: str, expected: tuple[str, str]) -> None:
    got = qp.epc_pattern(pattern)
    assert (got.kind, got.text) == expected


def test_a_pattern_with_a_wildcard_before_a_value_is_refused() -> None:
    with pytest.raises(ValueError, match="wildcards come last"):
        qp.epc_pattern("urn:epc:idpat:sgtin:4012345.*.1001")


def test_extension_prefixes_from_the_header() -> None:
    header = 'ex=https://ns.example.com/epcis/, "other"'
    assert qp.parse_extensions(header) == {"ex": "https://ns.example.com/epcis/"}
    declared = qp.parse([("EQ_ex:zone", "chilled")], qp.parse_extensions(header))
    undeclared = qp.parse([("EQ_ex:zone", "chilled")])
    assert declared.filters[0] == qf.FieldMatch(
        "event", False, "https://ns.example.com/epcis/zone", False, "EQ", ("chilled",)
    )
    assert undeclared.filters[0] == qf.FieldMatch(
        "event", False, "ex:zone", True, "EQ", ("chilled",)
    )


def test_query_facts_of_an_event() -> None:
    event = {
        "@context": [{"ex": "https://ns.example.com/epcis/"}],
        "type": "ObjectEvent",
        "ex:zone": "chilled",
        "ex:box": {"ex:n": 3, "ex:when": "2026-03-01T08:00:00Z"},
        "ilmd": {"ex:grade": "A"},
        "persistentDisposition": {"set": ["urn:epcglobal:cbv:disp:completeness_verified"]},
        "bizTransactionList": [{"bizTransaction": "urn:x:po:1"}],
        "errorDeclaration": {"declarationTime": "2026-03-02T00:00:00Z", "reason": "incorrect_data"},
        "sensorElementList": [
            {
                "sensorMetadata": {"deviceID": "urn:d:1", "time": "2026-03-01T07:00:00Z"},
                "sensorReport": [{"type": "gs1:Temperature", "value": 4, "uom": "CEL"}],
            }
        ],
    }
    facts = query_facts.extract(event)
    names = {(f.scope, f.inner, f.name, f.text) for f in facts.fields}
    ns = "https://ns.example.com/epcis/"
    assert names == {
        ("event", False, ns + "zone", "chilled"),
        ("event", False, ns + "box", None),
        ("event", True, ns + "n", "3"),
        ("event", True, ns + "when", "2026-03-01T08:00:00Z"),
        ("ilmd", False, ns + "grade", "A"),
    }
    when = next(f for f in facts.fields if f.name == ns + "when")
    assert when.time == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert facts.persistent == (("set", "completeness_verified"),)
    assert facts.biz_transactions == (("", "urn:x:po:1"),)
    assert facts.error_reason == "incorrect_data"
    (report,) = facts.sensor_reports
    assert report.type == "Temperature" and report.measures == {"value": 4.0}
    assert report.texts == {"deviceID": "urn:d:1"} and report.time is not None
