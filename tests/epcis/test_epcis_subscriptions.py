"""Webhook subscriptions: a real receiver on 127.0.0.1, failures retried, an app restart in
the middle, and the subscriber gets exactly the new matching events, each acknowledged once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from repos import Repository, event_uuid, object_document, open_repository
from webhooks import Receiver, webhook_receiver

from foodtrace.api.app import create_app
from foodtrace.epcis.subscription import webhook
from foodtrace.store.db import make_engine

LOT_A = "urn:epc:class:lgtin:4012345.012345.LOTA"
LOT_B = "urn:epc:class:lgtin:4012345.012345.LOTB"
TOKEN = "subscriber-secret"


def capture(client: TestClient, auth: dict[str, str], n: int, lot: str) -> None:
    r = client.post(
        "/epcis/capture",
        content=json.dumps(object_document([n], lot)),
        headers={"Content-Type": "application/ld+json", **auth},
    )
    assert r.status_code == 202 and r.json()["success"], r.text


def delivered(receiver: Receiver, *, acknowledged: bool = True) -> list[list[str]]:
    """The event ids of each delivery (acknowledged ones, or all), checking signatures."""
    out = []
    for d in receiver.acknowledged() if acknowledged else list(receiver.deliveries):
        expected = base64.b64encode(hmac.new(TOKEN.encode(), d.body, hashlib.sha256).digest())
        assert d.headers["GS1-Signature"] == expected.decode()
        body = json.loads(d.body)
        assert body["type"] == "EPCISQueryDocument"
        results = body["epcisBody"]["queryResults"]
        assert results["queryName"] == "lot-a" and results["subscriptionID"]
        out.append([e["eventID"] for e in results["resultsBody"]["eventList"]])
    return out


def ids(*ns: int) -> list[str]:
    return [event_uuid(n) for n in ns]


def test_subscriber_gets_exactly_the_new_matching_events_across_a_restart(
    db_url: str, tmp_path: Path
) -> None:
    fast = {"webhook_allow_loopback": True, "subscription_poll_seconds": 0.05}
    with webhook_receiver() as receiver:
        with open_repository(db_url, tmp_path / "var", **fast) as repo:
            client, auth = repo.client, repo.auth
            capture(client, auth, 1, LOT_A)  # before the subscription: never sent
            r = client.post(
                "/epcis/queries",
                json={"name": "lot-a", "query": {"MATCH_anyEPCClass": [LOT_A]}},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            r = client.post(
                "/epcis/queries/lot-a/subscriptions",
                json={"dest": receiver.url, "signatureToken": TOKEN, "stream": True},
                headers=auth,
            )
            assert r.status_code == 201, r.text
            location = r.headers["location"]
            receiver.script = [500]  # the first delivery fails: it is retried
            capture(client, auth, 2, LOT_A)
            capture(client, auth, 3, LOT_B)
            receiver.wait(lambda: len(receiver.acknowledged()) == 1)
            assert delivered(receiver) == [ids(2)]
            assert delivered(receiver, acknowledged=False) == [ids(2), ids(2)]
            # the next delivery fails, and the app stops before it is retried
            receiver.script = [503]
            capture(client, auth, 4, LOT_A)
            receiver.wait(lambda: len(receiver.deliveries) == 3)
            settings = repo.settings
        engine = make_engine(db_url)
        try:
            with TestClient(create_app(settings, engine=engine)) as client2:
                receiver.wait(lambda: len(receiver.acknowledged()) == 2)
                capture(client2, auth, 5, LOT_B)
                capture(client2, auth, 6, LOT_A)
                receiver.wait(lambda: len(receiver.acknowledged()) == 3)
                state = client2.get(location, headers=auth).json()
        finally:
            engine.dispose()
    assert delivered(receiver) == [ids(2), ids(4), ids(6)]
    assert state["failures"] == 0 and state["lastError"] is None
    assert "signatureToken" not in state and state["signed"] is True


def test_loopback_and_private_webhooks_are_refused_by_default(repository: Repository) -> None:
    r = repository.client.post(
        "/epcis/queries", json={"name": "all", "query": {}}, headers=repository.auth
    )
    assert r.status_code == 201
    for dest in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "ftp://example.com/x"):
        r = repository.client.post(
            "/epcis/queries/all/subscriptions", json={"dest": dest}, headers=repository.auth
        )
        assert r.status_code == 422, r.text
        assert [e["pointer"] for e in r.json()["errors"]] == ["/body/dest"]
    r = repository.client.post(
        "/epcis/queries/all/subscriptions",
        json={"dest": "https://93.184.215.14/hook", "schedule": {"minute": "0"}},
        headers=repository.auth,
    )
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/body/schedule"]


@pytest.mark.parametrize(
    ("address", "loopback", "allowed"),
    [
        ("127.0.0.1", False, False),
        ("127.0.0.1", True, True),
        ("::1", True, True),
        ("::ffff:127.0.0.1", False, False),
        ("10.0.0.5", True, False),
        ("192.168.1.1", True, False),
        ("169.254.169.254", True, False),
        ("fd00::1", True, False),
        ("224.0.0.1", True, False),
        ("93.184.215.14", False, True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", False, True),
    ],
)
def test_webhook_address_guard(address: str, loopback: bool, allowed: bool) -> None:
    assert webhook.address_allowed(address, loopback) is allowed


def test_webhook_urls() -> None:
    for url in ("ftp://example.com/", "file:///etc/passwd", "http:///nohost", "gopher://x"):
        with pytest.raises(webhook.WebhookRefused):
            webhook.check_dest(url, allow_loopback=True)
    with pytest.raises(webhook.WebhookRefused, match="public"):
        webhook.check_dest("http://localhost:8080/x", allow_loopback=False)
    webhook.check_dest("http://localhost:8080/x", allow_loopback=True)
    webhook.check_dest("http://127.0.0.1:8080/x", allow_loopback=True)
