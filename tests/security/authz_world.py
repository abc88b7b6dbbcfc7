"""A seeded little world for the authorisation matrix: the demo chain (a farm, a processor,
a cold-chain carrier, a restaurant, a lab, an inspector and the regulator, with lots,
shipments, a recall, a report, a health certificate, an inspection and a grade), plus a
retailer, a second producer (the "other party of the same role"), a complaint, a named query
with a subscription and a batch of serial codes, so that every path parameter names a real
object.

Kept out of ``conftest.py`` so the test module imports it by a name no other folder uses.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.demo import (
    BY_KEY,
    CST,
    REGULATOR,
    REGULATOR_KEY_FILE,
    Api,
    credit_code,
    lots,
    seed,
)
from foodtrace.store.base import Base

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ANONYMOUS = "anonymous"


@dataclass
class World:
    """The running app, one token per actor, and the ids path parameters resolve to."""

    client: TestClient
    settings: Settings
    tokens: dict[str, str]  # actor name -> token; ANONYMOUS has none
    kinds: dict[str, str]  # actor name -> party kind
    party_ids: dict[str, str]  # actor name -> party id
    ids: dict[str, str] = field(default_factory=dict)  # placeholder -> value

    def headers(self, actor: str) -> dict[str, str]:
        if actor == ANONYMOUS:
            return {}
        return {"Authorization": f"Bearer {self.tokens[actor]}"}

    def snapshot(self) -> dict[str, int]:
        """The log size and the row count of every table, in one query."""
        engine = self.client.app.state.engine  # type: ignore[attr-defined]
        tables = Base.metadata.sorted_tables
        union = " UNION ALL ".join(
            f"SELECT '{t.name}' AS name, COUNT(*) AS n FROM {t.name}" for t in tables
        )
        with Session(engine) as session:
            counts = {name: n for name, n in session.execute(text(union))}
            counts["log"] = self.client.app.state.log.size()  # type: ignore[attr-defined]
        return counts


def _post(api: Api, who: str, path: str, **kw: Any) -> dict[str, Any]:
    return api.post(who, path, **kw)


def _register(api: Api, key: str, kind: str, code: str) -> None:
    """A custodial party of ``kind`` registered by the regulator, its token under ``key``."""
    body = {
        "party_id": code,
        "name": f"测试{kind}",
        "kind": kind,
        "credit_code": code,
        "region": "北京市朝阳区",
        "custodial": True,
    }
    enrol = getattr(api, "enrol", None)
    if enrol is not None:  # token lifecycle (issue 13): registration answers an enrolment code
        enrol(key, _post(api, "regulator", "/api/v1/parties", json=body))
        return
    body["issue_token"] = True  # before it: registration answers the token itself
    api.tokens[key] = _post(api, "regulator", "/api/v1/parties", json=body)["token"]


@contextmanager
def seeded_world(data_dir: Path, database_url: str) -> Iterator[World]:
    """The demo chain plus the extras named in the module docstring, app left running."""
    from foodtrace.api.app import create_app
    from foodtrace.party.service import init_regulator
    from foodtrace.store.db import migrate
    from foodtrace.store.log import MerkleLog

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        chain_url="",
        contract_address="",
        public_base_url="http://127.0.0.1:8000",
        webhook_allow_loopback=True,
        batch_max_wait_s=0.001,
    )
    migrate(settings.resolved_database_url, "heads")
    today: date = datetime.now(CST).date()
    with MerkleLog(settings=settings, migrate=False) as log:
        boot = init_regulator(
            log,
            party_id=REGULATOR.credit_code,
            name=REGULATOR.name,
            credit_code=REGULATOR.credit_code,
            key_file=data_dir / REGULATOR_KEY_FILE,
            region=REGULATOR.region,
        )
    app = create_app(settings)
    with TestClient(app, base_url=settings.public_base_url) as client:
        api = Api(client, {"regulator": boot.token})
        seeded = seed(api, settings, today)
        tokens = dict(seeded.tokens)
        api.tokens.update(tokens)

        extra = {
            "retailer": credit_code("110105", "MA05RT1K"),
            "farm2": credit_code("370783", "MA3C5K8Q"),
        }
        _register(api, "retailer", "retailer", extra["retailer"])
        _register(api, "farm2", "producer", extra["farm2"])
        kinds = {k: BY_KEY[k].kind for k in BY_KEY} | {"retailer": "retailer", "farm2": "producer"}
        party_ids = {k: BY_KEY[k].credit_code for k in BY_KEY} | extra

        cucumber, tomato, _ = lots(today)
        restaurant = BY_KEY["restaurant"].credit_code
        ids = {
            "party_id": restaurant,
            "farm": BY_KEY["farm"].credit_code,
            "gtin": tomato.gtin,
            "lot_code": tomato.lot_code,
            "cucumber_lot": cucumber.lot_code,
            "report_number": seeded.report_number,
            "number": seeded.certificate_number,
            "licence": "JY21101050038216",
            "prefix": "69012341",
            "sscc": "069012340000000017",
            "index": "1",
            "tile": "0/000",
            "static": "style.css",
            "workbench_css": "workbench.css",
            "application_id": "RP-unknown",
            "draw_id": "1",
            "gln": BY_KEY["restaurant"].gln,
            "fmt": "csv",
            "serial": "S0001",
        }
        recalls = client.get("/api/v1/recalls").json()
        ids["recall_id"] = str(recalls[0]["id"] if isinstance(recalls, list) else "1")
        complaint = client.post(
            "/api/v1/complaints",
            json={"merchant_id": restaurant, "category": "hygiene", "description": "测试投诉"},
        )
        assert complaint.status_code == 201, complaint.text
        ids["tracking_number"] = complaint.json()["tracking_number"]
        query = {"name": "farm-lots", "query": {"eventType": "ObjectEvent"}}
        _post(api, "farm", "/epcis/queries", json=query)
        ids["queryName"] = "farm-lots"
        sub = _post(
            api,
            "farm",
            "/epcis/queries/farm-lots/subscriptions",
            json={"dest": "http://127.0.0.1:9/hook", "stream": True},
        )
        ids["subscriptionID"] = str(sub.get("subscriptionID") or sub.get("id"))
        ids["blob"] = _any_blob(client, ids["report_number"])
        ids["event_id"] = _any_event_id(client)
        ids["capture_id"] = _capture_of(app.state.engine, party_ids["farm"])
        spare = _post(
            api, "regulator", f"/api/v1/parties/{restaurant}/tokens", json={"name": "spare"}
        )
        ids["token_id"] = str(spare["metadata"]["id"])
        # a grid (所社联动): the inspector is its officer, a second inspector its grid worker
        worker = credit_code("110105", "MA05GW2K")
        _register(api, "gridworker", "inspector", worker)
        grid = {
            "grid_id": "matrix-grid",
            "name": "矩阵网格",
            "station": "朝阳市场监管所",
            "officer": party_ids["inspector"],
            "grid_worker": worker,
            "station_head": party_ids["regulator"],
        }
        _post(api, "regulator", "/api/v1/grids", json=grid)
        _post(
            api,
            "regulator",
            "/api/v1/grids/matrix-grid/businesses",
            json={"grid_id": "matrix-grid", "party_ids": [restaurant]},
        )
        ids["grid_id"] = "matrix-grid"
        visits = client.get(f"/api/v1/parties/{restaurant}/inspections").json()
        ids["inspection"] = str(visits[0]["entry_index"])
        tokens = {**tokens, "retailer": api.tokens["retailer"], "farm2": api.tokens["farm2"]}
        yield World(client, settings, tokens, kinds, party_ids, ids)


def _any_blob(client: TestClient, report_number: str) -> str:
    r = client.get(f"/api/v1/reports/{report_number}")
    assert r.status_code == 200, r.text
    body = r.json()
    record = body.get("record", body)
    found = record.get("pdf_sha256") or record.get("body", {}).get("pdf_sha256")
    return str(found)


def _any_event_id(client: TestClient) -> str:
    r = client.get("/epcis/events", params={"perPage": "1"})
    assert r.status_code == 200, r.text
    events = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return str(events[0]["eventID"])


def _capture_of(engine: Any, party_id: str) -> str:
    from foodtrace.epcis.models import CaptureJob

    with Session(engine) as session:
        job = session.scalars(select(CaptureJob).where(CaptureJob.party_id == party_id)).first()
        assert job is not None
        return str(job.id)
