"""Reading EPCIS master data from a document header: every attribute spelling, the
vocabulary types kept, the problems reported, and the vocabularyList written back."""

from __future__ import annotations

from typing import Any

import pytest

from foodtrace.trace.epcis import masterdata

GLN = "6901234000016"
SITE = f"https://id.gs1.org/414/{GLN}"


def _header(*vocabularies: dict[str, Any]) -> dict[str, Any]:
    return {"epcisHeader": {"epcisMasterData": {"vocabularyList": list(vocabularies)}}}


@pytest.mark.parametrize(
    "attribute",
    [
        "urn:epcglobal:cbv:mda#name",
        "urn:epcglobal:cbv:mda:name",
        "cbvmda:name",
        "gs1:physicalLocationName",
        "https://ref.gs1.org/voc/physicalLocationName",
        "https://gs1.org/voc/physicalLocationName",
    ],
)
def test_every_spelling_of_a_site_name_means_the_same(attribute: str) -> None:
    for vtype in ("BusinessLocation", "ReadPoint"):
        doc = _header(
            {
                "type": f"urn:epcglobal:epcis:vtype:{vtype}",
                "vocabularyElementList": [
                    {
                        "id": "urn:epc:id:sgln:6901234.00001.0",
                        "attributes": [
                            {
                                "id": attribute,
                                "attribute": {"@value": " 一号仓 ", "@language": "zh"},
                            }
                        ],
                    }
                ],
            }
        )
        [element], issues = masterdata.header_elements(doc)
        assert issues == []
        assert (element.kind, element.id, element.attributes) == (
            "location",
            SITE,
            {"name": "一号仓"},
        )


def test_products_and_parties_and_their_attribute_names() -> None:
    doc = _header(
        {
            "type": "urn:epcglobal:epcis:vtype:EPCClass",
            "vocabularyElementList": [
                {
                    "id": "urn:epc:class:lgtin:6901234.012345.LOT1",
                    "attributes": [
                        {"id": "urn:epcglobal:cbv:mda#regulatedProductName", "attribute": "大米"},
                        {"id": "cbvmda:functionalName", "attribute": "粮食"},
                        {"id": "urn:epcglobal:cbv:mda#netContentDescription", "attribute": "5kg"},
                        {"id": "https://example.com/grade", "attribute": 1},
                    ],
                }
            ],
        },
        {
            "type": "urn:epcglobal:epcis:vtype:Party",
            "vocabularyElementList": [
                {
                    "id": "urn:epc:id:pgln:6901234.00000",
                    "attributes": [
                        {"id": "gs1:organizationName", "attribute": "稻香合作社"},
                        {"id": "urn:epcglobal:cbv:mda#latitude", "attribute": "31.5"},
                    ],
                }
            ],
        },
    )
    (product, party), issues = masterdata.header_elements(doc)
    assert issues == []
    assert product.id == "https://id.gs1.org/01/06901234123456"  # the class, not the lot
    assert product.attributes == {"name": "大米", "category": "粮食", "specification": "5kg"}
    assert product.other == {"https://example.com/grade": 1}
    assert party.id == "https://id.gs1.org/417/6901234000009"
    assert party.attributes == {"name": "稻香合作社", "latitude": 31.5}


def test_problems_are_reported_where_they_are() -> None:
    doc = _header(
        {"type": "urn:epcglobal:epcis:vtype:BusinessStep", "vocabularyElementList": []},
        {
            "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
            "vocabularyElementList": [
                {"id": "urn:epc:id:sgtin:6901234.012345.1"},
                {"id": "https://id.gs1.org/414/6901234000017"},  # bad check digit
                {"id": SITE, "attributes": [{"id": "cbvmda:longitude", "attribute": "east"}]},
            ],
        },
    )
    elements, issues = masterdata.header_elements(doc)
    at = "/epcisHeader/epcisMasterData/vocabularyList"
    assert elements == []
    assert [i.pointer for i in issues] == [
        f"{at}/0/type",
        f"{at}/1/vocabularyElementList/0/id",
        f"{at}/1/vocabularyElementList/1/id",
        f"{at}/1/vocabularyElementList/2/attributes/0/attribute",
    ]
    assert "urn:epcglobal:epcis:vtype:BusinessLocation" in issues[0].message


def test_no_header_no_elements() -> None:
    assert masterdata.header_elements({"epcisBody": {}}) == ([], [])


@pytest.mark.parametrize(
    ("kind", "given", "canonical"),
    [
        ("location", GLN, SITE),
        ("location", "urn:epc:id:sgln:6901234.00001.7", f"{SITE}/254/7"),
        ("location", f"https://example.cn/gln/{GLN}?x=1", SITE),
        ("product", "6901234123456", "https://id.gs1.org/01/06901234123456"),
        (
            "product",
            "https://id.gs1.org/01/06901234123456/21/9",
            "https://id.gs1.org/01/06901234123456",
        ),
        ("party", "urn:epc:id:pgln:6901234.00000", "https://id.gs1.org/417/6901234000009"),
        ("location", "12345", None),
        ("location", "https://id.gs1.org/01/06901234123456", None),
        ("party", SITE, None),
    ],
)
def test_canonical_ids(kind: str, given: str, canonical: str | None) -> None:
    assert masterdata.canonical_id(kind, given) == canonical


def test_vocabulary_list_writes_back_what_the_header_read() -> None:
    vocabulary = {
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation",
        "vocabularyElementList": [
            {
                "id": SITE,
                "attributes": [
                    {"id": "urn:epcglobal:cbv:mda#name", "attribute": "一号仓"},
                    {"id": "urn:epcglobal:cbv:mda#city", "attribute": "上海"},
                    {"id": "https://example.com/dock", "attribute": 7},
                ],
                "children": [f"{SITE}/254/1"],
            }
        ],
    }
    [element], _ = masterdata.header_elements(_header(vocabulary))
    assert masterdata.vocabulary_list([(element.kind, element.body())]) == [vocabulary]
