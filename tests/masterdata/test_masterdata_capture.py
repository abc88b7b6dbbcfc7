"""Master data in an EPCIS document's header, captured with its events on both backends:
stored in the same atomic group, read back, refused for someone else's site (403, nothing
stored), and shown by name on the lot and merchant pages."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import urlsplit

from parties import add_party, gln
from recordharness import TEST_PREFIX, Actor, Env, assert_problem, gtin, pointers

from foodtrace.resolver.codes import AUTHORITY_KEY_FILE
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.trace.codes import lot_code, merchant_code
from foodtrace.trace.platform_note import REGISTER_TYPE

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"
HTML = {"accept": "text/html"}


def _sgln(site: str) -> str:
    return f"urn:epc:id:sgln:{site[:7]}.{site[7:12]}.0"


def _document(site: str, lot: str, product: str, vocabularies: list[dict[str, Any]]) -> Any:
    return {
        "@context": [CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-30T08:00:00Z",
        "epcisHeader": {"epcisMasterData": {"vocabularyList": vocabularies}},
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2026-11-30T07:30:00+08:00",
                    "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "quantityList": [
                        {
                            "epcClass": f"https://id.gs1.org/01/{product}/10/{lot}",
                            "quantity": 10,
                            "uom": "KGM",
                        }
                    ],
                    "bizLocation": {"id": _sgln(site)},
                }
            ]
        },
    }


def _site_vocabulary(site: str) -> dict[str, Any]:
    """One site, its attributes in the three spellings a header may use."""
    return {
        "type": LOCATION,
        "vocabularyElementList": [
            {
                "id": _sgln(site),
                "attributes": [
                    {"id": "urn:epcglobal:cbv:mda#name", "attribute": "稻香合作社一号仓"},
                    {"id": "cbvmda:streetAddressOne", "attribute": "城桥镇八一路 88 号"},
                    {"id": "gs1:addressLocality", "attribute": "上海市崇明区"},
                    {"id": "urn:epcglobal:cbv:mda:countryCode", "attribute": "CN"},
                    {"id": "urn:epcglobal:cbv:mda#latitude", "attribute": "31.62"},
                    {"id": "https://example.com/md/dock", "attribute": 7},
                ],
            }
        ],
    }


def _capture(who: Actor, document: Any) -> Any:
    return who.client.post(
        "/epcis/capture",
        content=json.dumps(document, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/ld+json", **who.headers},
    )


def _farm_with_lot(env: Env, n: int) -> tuple[Actor, str, str]:
    farm = add_party(env, "producer", gln(n))
    g = gtin(n)
    env.assign_prefix(farm.party_id, f"{TEST_PREFIX}{n:06d}")  # this GTIN's own prefix
    for path, body in (
        ("/api/v1/products", {"gtin": g, "name": "崇明大米", "category": "大米"}),
        (
            "/api/v1/lots",
            {
                "gtin": g,
                "lot_code": f"L{n}",
                "production_date": "2026-11-29",
                "quantity": 100,
                "unit": "kg",
            },
        ),
    ):
        r = env.client.post(path, json=body, headers=farm.headers)
        assert r.status_code == 201, r.text
    return farm, g, f"L{n}"


def _facts_match_records(env: Env, page: str) -> int:
    """Every master data fact on the page equals the value its entry records."""
    found = re.findall(r'data-rec="(\d+)" data-path="(/body/attributes/[^"]+)"[^>]*>([^<]*)<', page)
    for rec, path, text in found:
        entry = env.client.get(f"/api/v1/records/{rec}").json()["entry"]
        assert entry["type"] == "masterdata.location"
        value = entry
        for part in path.strip("/").split("/"):
            value = value[part]
        assert html.unescape(text) == value, (path, text, value)
    return len(found)


def test_header_master_data_is_captured_with_the_events_and_shown_on_the_pages(
    env: Env,
) -> None:
    farm, product, lot = _farm_with_lot(env, 1)
    site = gln(1)
    size = env.log.size()
    r = _capture(farm, _document(site, lot, product, [_site_vocabulary(site)]))
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["success"], job
    assert len(job["entryIndices"]) == 1  # the event; its site's entry follows it in the group
    assert job["entryIndices"] == [size]
    # after the group, only the farm's regrade (on write, the default): its grade entry, and
    # the registration of the platform's key before the first entry that key signs
    after = [env.log.entry(i).type for i in range(size + 2, env.log.size())]
    assert after[-1:] == ["grade.compute"] and set(after[:-1]) <= {REGISTER_TYPE}

    got = env.client.get(f"/api/v1/masterdata/locations/{site}")
    assert got.status_code == 200, got.text
    record = got.json()["record"]
    assert record["attributes"] == {
        "name": "稻香合作社一号仓",
        "streetAddressOne": "城桥镇八一路 88 号",
        "city": "上海市崇明区",
        "countryCode": "CN",
        "latitude": 31.62,
    }
    assert record["other"] == {"https://example.com/md/dock": 7}
    assert got.json()["entry_index"] == job["entryIndices"][0] + 1

    key = load_or_create_key(env.settings.data_dir / AUTHORITY_KEY_FILE)
    code = lot_code("http://testserver", product, lot, key)
    page = env.client.get(urlsplit(code.url)._replace(scheme="", netloc="").geturl(), headers=HTML)
    assert page.status_code == 200, page.text
    assert "稻香合作社一号仓" in page.text and "城桥镇八一路 88 号" in page.text
    shown = re.search(r'地点:<span[^>]*data-value="([^"]+)"><span[^>]*>([^<]+)</span>', page.text)
    assert shown is not None and shown.groups() == (_sgln(site), "稻香合作社一号仓")
    assert _facts_match_records(env, page.text) == 3

    shop = merchant_code("http://testserver", farm.party_id, key)
    merchant = env.client.get(
        urlsplit(shop.url)._replace(scheme="", netloc="").geturl(), headers=HTML
    )
    assert merchant.status_code == 200, merchant.text
    assert "经营场所" in merchant.text and "稻香合作社一号仓" in merchant.text
    assert _facts_match_records(env, merchant.text) == 3


def test_a_header_describing_someone_elses_site_is_refused_and_nothing_is_stored(
    env: Env,
) -> None:
    farm, product, lot = _farm_with_lot(env, 1)
    other = gln(2)
    add_party(env, "producer", other)
    before = env.snapshot()
    r = _capture(farm, _document(gln(1), lot, product, [_site_vocabulary(other)]))
    body = assert_problem(r, 403)
    assert pointers(r) == {
        "/body/epcisHeader/epcisMasterData/vocabularyList/0/vocabularyElementList/0/id"
    }
    assert other in body["errors"][0]["detail"]
    assert env.snapshot() == before


def test_header_problems_are_listed_with_the_document_and_nothing_is_stored(env: Env) -> None:
    farm, product, lot = _farm_with_lot(env, 1)
    site = _site_vocabulary(gln(1))
    element = site["vocabularyElementList"][0]
    element["attributes"][4]["attribute"] = "north"  # latitude
    element["attributes"].append({"id": "urn:epcglobal:cbv:mda#countryCode", "attribute": {"x": 1}})
    unknown = {"type": "urn:epcglobal:epcis:vtype:BusinessStep", "vocabularyElementList": []}
    wrong_key = {
        "type": LOCATION,
        "vocabularyElementList": [{"id": f"https://id.gs1.org/01/{product}"}],
    }
    before = env.snapshot()
    r = _capture(farm, _document(gln(1), lot, product, [site, unknown, wrong_key]))
    at = "/body/epcisHeader/epcisMasterData/vocabularyList"
    assert pointers(assert_problem(r, 422) and r) == {
        f"{at}/0/vocabularyElementList/0/attributes/4/attribute",
        f"{at}/0/vocabularyElementList/0/attributes/6/attribute",
        f"{at}/1/type",
        f"{at}/2/vocabularyElementList/0/id",
    }
    assert env.snapshot() == before
