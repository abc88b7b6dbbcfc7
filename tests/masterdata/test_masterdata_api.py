"""Describing sites, products and parties through the API, on both backends: who may write
what, reads and queries back, the EPCIS vocabulary form, and refusals that change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from parties import add_party, gln
from recordharness import TEST_PREFIX, Env, assert_problem, gtin, pointers

SITE = {
    "attributes": {
        "name": "稻香合作社一号仓",
        "streetAddressOne": "城桥镇八一路 88 号",
        "city": "上海市崇明区",
        "countryCode": "CN",
        "latitude": 31.62,
        "longitude": 121.4,
    }
}


def _put(env: Env, who: Any, path: str, payload: dict[str, Any]) -> Any:
    return env.client.put(f"/api/v1/masterdata/{path}", json=payload, headers=who.headers)


def test_a_party_describes_its_own_site_and_everyone_reads_it_back(env: Env) -> None:
    farm = add_party(env, "producer", gln(1))
    r = _put(env, farm, f"locations/{gln(1)}", SITE)
    assert r.status_code == 200, r.text
    record = r.json()["record"]
    canonical = f"https://id.gs1.org/414/{gln(1)}"
    assert record["id"] == canonical and record["author"] == farm.party_id
    assert record["attributes"]["name"] == "稻香合作社一号仓"
    entry = r.json()["proof"]["entry"]
    assert entry["type"] == "masterdata.location" and entry["body"]["id"] == canonical

    urn = f"urn:epc:id:sgln:{gln(1)[:7]}.{gln(1)[7:12]}.0"
    for spelling in (gln(1), quote(urn, safe=""), quote(canonical, safe="")):
        got = env.client.get(f"/api/v1/masterdata/locations/{spelling}")
        assert got.status_code == 200, (spelling, got.text)
        assert got.json()["record"]["attributes"] == record["attributes"]
        assert got.json()["entry_index"] == r.json()["entry_index"]

    found = env.client.get("/api/v1/masterdata", params={"type": "location", "id": urn}).json()
    assert [e["id"] for e in found] == [canonical]
    assert env.client.get("/api/v1/masterdata", params={"type": "product", "id": urn}).json() == []

    vocab = env.client.get(
        "/epcis/vocabularies", params={"type": "urn:epcglobal:epcis:vtype:BusinessLocation"}
    )
    assert vocab.status_code == 200 and vocab.headers["content-type"] == "application/ld+json"
    [vocabulary] = vocab.json()["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    assert vocabulary["type"] == "urn:epcglobal:epcis:vtype:BusinessLocation"
    [element] = vocabulary["vocabularyElementList"]
    attributes = {a["id"]: a["attribute"] for a in element["attributes"]}
    assert attributes["urn:epcglobal:cbv:mda#name"] == "稻香合作社一号仓"
    assert attributes["urn:epcglobal:cbv:mda#latitude"] == 31.62


def test_someone_elses_site_is_refused_with_403_and_nothing_changes(env: Env) -> None:
    add_party(env, "producer", gln(2))
    farm = add_party(env, "producer", gln(1))
    signer = add_party(env, "producer", gln(3), custodial=False)
    before = env.snapshot()
    r = _put(env, farm, f"locations/{gln(2)}", SITE)
    assert "/body/id" in pointers(assert_problem(r, 403) and r)
    assert gln(2) in r.text
    canonical = f"https://id.gs1.org/414/{gln(2)}"
    signed = {"entry": signer.sign("masterdata.location", {"id": canonical, **SITE})}
    r = _put(env, signer, f"locations/{gln(2)}", signed)
    assert pointers(assert_problem(r, 403) and r) == {"/body/entry/body/id"}
    assert env.snapshot() == before
    assert env.client.get(f"/api/v1/masterdata/locations/{gln(2)}").status_code == 404


def test_a_regulator_may_describe_any_site(env: Env) -> None:
    add_party(env, "producer", gln(4))
    canonical = f"https://id.gs1.org/414/{gln(4)}"
    signed = {"entry": env.regulator.sign("masterdata.location", {"id": canonical, **SITE})}
    r = _put(env, env.regulator, f"locations/{gln(4)}", signed)
    assert r.status_code == 200, r.text
    assert r.json()["record"]["author"] == env.regulator.party_id


def test_products_only_by_the_producer_that_registered_the_gtin(env: Env) -> None:
    farm = add_party(env, "producer", gln(1))
    other = add_party(env, "producer", gln(2))
    g = gtin(77)
    env.assign_prefix(farm.party_id, f"{TEST_PREFIX}{77:06d}")  # this GTIN's own prefix
    r = env.client.post(
        "/api/v1/products", json={"gtin": g, "name": "崇明大米"}, headers=farm.headers
    )
    assert r.status_code == 201, r.text
    body = {"attributes": {"name": "崇明大米", "category": "大米", "specification": "5kg/袋"}}
    before = env.snapshot()
    r = _put(env, other, f"products/{g}", body)
    assert pointers(assert_problem(r, 403) and r) == {"/body/id"}
    assert f"registered by {farm.party_id}" in r.text
    assert env.snapshot() == before
    r = _put(env, farm, f"products/{g}", body)
    assert r.status_code == 200, r.text
    assert r.json()["record"]["id"] == f"https://id.gs1.org/01/{g}"
    assert r.json()["record"]["attributes"]["specification"] == "5kg/袋"
    unknown = _put(env, farm, f"products/{gtin(78)}", body)
    assert "not a registered product" in assert_problem(unknown, 403)["errors"][0]["detail"]


def test_the_latest_description_wins(env: Env) -> None:
    farm = add_party(env, "producer", gln(1))
    first = _put(env, farm, f"locations/{gln(1)}", SITE).json()
    renamed = {"attributes": {**SITE["attributes"], "name": "稻香合作社新仓"}}
    second = _put(env, farm, f"locations/{gln(1)}", renamed).json()
    assert second["entry_index"] > first["entry_index"]
    got = env.client.get(f"/api/v1/masterdata/locations/{gln(1)}").json()
    assert got["record"]["attributes"]["name"] == "稻香合作社新仓"
    assert got["entry_index"] == second["entry_index"]


def test_invalid_descriptions_list_every_problem_and_store_nothing(env: Env) -> None:
    farm = add_party(env, "producer", gln(1))
    before = env.snapshot()
    bad = {"attributes": {"countryCode": "China", "latitude": 123, "colour": "red"}}
    r = _put(env, farm, f"locations/{gln(1)}", bad)
    assert pointers(assert_problem(r, 422) and r) == {
        "/body/attributes/countryCode",
        "/body/attributes/latitude",
        "/body/attributes/colour",
    }
    r = _put(env, farm, f"locations/{gln(1)}", {"id": f"https://id.gs1.org/414/{gln(2)}", **SITE})
    assert pointers(assert_problem(r, 422) and r) == {"/body/id"}
    assert_problem(_put(env, farm, "locations/12345", SITE), 404)
    assert_problem(env.client.get("/api/v1/masterdata", params={"type": "colour"}), 422)
    assert env.snapshot() == before


def test_only_supply_chain_parties_and_regulators_may_write_and_openapi_says_so(env: Env) -> None:
    before = env.snapshot()
    for kind in ("inspector", "lab"):
        actor = add_party(env, kind, gln(9))
        r = _put(env, actor, f"locations/{gln(9)}", SITE)
        assert assert_problem(r, 403)["detail"].startswith(f"The role {kind} may not write")
    assert_problem(env.client.put(f"/api/v1/masterdata/locations/{gln(9)}", json=SITE), 401)
    assert env.snapshot()["masterdata_elements"] == before["masterdata_elements"]
    paths = env.client.get("/openapi.json").json()["paths"]
    for plural in ("locations", "products", "parties"):
        put = paths[f"/api/v1/masterdata/{plural}/{{element_id}}"]["put"]
        assert {"200", "401", "403", "404", "422"} <= set(put["responses"])
        assert "oneOf" in put["requestBody"]["content"]["application/json"]["schema"]
    vocab = paths["/epcis/vocabularies"]["get"]["responses"]
    assert "application/ld+json" in vocab["200"]["content"]
