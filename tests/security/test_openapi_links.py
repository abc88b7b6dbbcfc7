"""Every OpenAPI link (:data:`foodtrace.api.links.LINKS`) followed deterministically: a
valid request to the link's source operation, the link's runtime expressions evaluated on
that answer, and the target operation called with those values. The target must answer 2xx
and pass the same checks as the schemathesis runs (no 5xx; status, content type and body
as its operation declares): the link really leads where it says. A link with no source
request or no caller here fails the test, so a new link cannot go unfollowed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from gridharness import make_grid
from openapi_world import CHECKS, OpenApiWorld, openapi_world, send
from recordharness import credit_code
from stdnum import ean
from supplychain import member, qty, ship

from foodtrace.api.links import LINKS
from foodtrace.trace import keys

Headers = dict[str, str]
LINK_PREFIX = "690124"  # a GS1 company prefix of this file's own farm
Answer = tuple[httpx.Response, Headers]  # the source's answer and its caller's headers


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenApiWorld]:
    with openapi_world(tmp_path_factory, "links") as base:
        yield base


def _register(world: OpenApiWorld) -> Answer:
    """A regulator registers a new party (the answer carries its enrolment code)."""
    code = credit_code()
    body = {
        "party_id": f"res-{code}",
        "name": "链接测试餐馆",
        "kind": "restaurant",
        "credit_code": code,
        "region": "上海市黄浦区",
        "public_keys": [keys.public_to_b64(keys.generate())],
    }
    regulator = world.env.regulator
    entry = regulator.sign("party.register", body)
    answer = world.client.post("/api/v1/parties", json={"entry": entry}, headers=regulator.headers)
    return answer, regulator.headers


def _new_code(world: OpenApiWorld) -> Answer:
    """A regulator issues a new enrolment code for a party that lost its own."""
    registered, headers = _register(world)
    assert registered.status_code == 201, registered.text
    party_id = registered.json()["party"]["party_id"]
    answer = world.client.post(f"/api/v1/parties/{party_id}/enrolment-codes", headers=headers)
    return answer, headers


def _capture(world: OpenApiWorld) -> Answer:
    """A farm with a server-held key captures a shipment of its own lot."""
    farm, shop = member(world.env, "producer"), member(world.env, "retailer")
    world.env.assign_prefix(farm.party_id, LINK_PREFIX)  # the world's producer has 690123
    body = f"0{LINK_PREFIX}000901"
    code, lot = body + ean.calc_check_digit(body), "LINK-1"
    registered = farm.actor.post(
        "/api/v1/products", "product.register", {"gtin": code, "name": "链"}
    )
    assert registered.status_code == 201, registered.text
    made = {
        "gtin": code,
        "lot_code": lot,
        "production_date": "2026-11-20",
        "quantity": 500,
        "unit": "kg",
    }
    created = farm.actor.post("/api/v1/lots", "lot.create", made)
    assert created.status_code == 201, created.text
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-21T08:00:00Z",
        "epcisBody": {
            "eventList": [ship("2026-11-21T08:00:00Z", farm, shop, [qty(code, lot, 100)])]
        },
    }
    headers = farm.actor.headers
    answer = world.client.post(
        "/epcis/capture",
        json=document,
        headers={**headers, "Content-Type": "application/ld+json"},
    )
    return answer, headers


def _complain(world: OpenApiWorld) -> Answer:
    """Anyone files a complaint about a registered shop (no token)."""
    [shop] = make_grid(world.env, "links-01", shops=1).shops  # routed to the grid's owners
    body = {"merchant_id": shop.party_id, "category": "hygiene", "description": "凉菜里有头发"}
    return world.client.post("/api/v1/complaints", json=body), {}


SOURCES: dict[tuple[str, str, str], Callable[[OpenApiWorld], Answer]] = {
    ("/api/v1/parties", "post", "201"): _register,
    ("/api/v1/parties/{party_id}/enrolment-codes", "post", "201"): _new_code,
    ("/epcis/capture", "post", "202"): _capture,
    ("/api/v1/complaints", "post", "201"): _complain,
}
# who calls each link's target: the source's caller, a regulator, or nobody (no token)
CALLERS = {
    "GetParty": "regulator",
    "Enrol": "anonymous",
    "GetCaptureJob": "source",
    "GetFirstEvent": "source",
    "GetComplaint": "anonymous",
    "AnswerComplaint": "regulator",
    "GetOwners": "regulator",
}
# the rest of a target's body, where the link gives only its parameters
BODIES: dict[str, dict[str, Any]] = {"AnswerComplaint": {"stage": "response", "note": "已联系"}}


def evaluate(expression: str, body: Any) -> Any:
    """A ``$response.body#/json/pointer`` runtime expression (OpenAPI 3.1 §4.8.20.4) on
    ``body``; any other kind of expression is refused, so a new one fails loudly here."""
    prefix = "$response.body#"
    assert expression.startswith(prefix), f"unsupported runtime expression {expression!r}"
    value = body
    for token in expression.removeprefix(prefix).split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


def target_of(link: dict[str, Any]) -> tuple[str, str]:
    """(path, METHOD) of a link's ``operationRef``."""
    pointer, method = link["operationRef"].removeprefix("#/paths/").rsplit("/", 1)
    return pointer.replace("~1", "/").replace("~0", "~"), method.upper()


def test_every_link_has_a_source_request_and_a_caller() -> None:
    assert set(SOURCES) == set(LINKS)
    assert {name for links in LINKS.values() for name in links} == set(CALLERS)


@pytest.mark.parametrize("source", list(LINKS), ids=lambda s: f"{s[1].upper()} {s[0]}")
def test_each_link_leads_to_a_documented_answer(
    world: OpenApiWorld, source: tuple[str, str, str]
) -> None:
    schema = schemathesis.openapi.from_dict(world.document)
    answer, source_headers = SOURCES[source](world)
    assert answer.status_code == int(source[2]), answer.text
    body = answer.json()
    regulator = world.env.regulator.headers
    for name, link in LINKS[source].items():
        path, method = target_of(link)
        # percent-encoded as RFC 6570 simple expansion does (an event id holds "/" and ";");
        # schemathesis puts path values in as they are
        parameters = {
            k: quote(str(evaluate(v, body)), safe="") for k, v in link.get("parameters", {}).items()
        }
        payload = {k: evaluate(v, body) for k, v in link.get("requestBody", {}).items()}
        payload |= BODIES.get(name, {})
        headers = {"source": source_headers, "regulator": regulator, "anonymous": {}}[CALLERS[name]]
        operation = schema[path][method]
        given: dict[str, Any] = {"path_parameters": parameters or None}
        if payload:
            given |= {"body": payload, "media_type": "application/json"}
        case = operation.Case(**given)
        followed = send(world.client, case, headers)
        assert 200 <= followed.status_code < 300, (name, followed.status_code, followed.text)
        case.validate_response(followed, checks=CHECKS, headers=headers)
