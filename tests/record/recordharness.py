"""A running API on a migrated database (SQLite and PostgreSQL), a bootstrapped regulator,
and parties that sign entries with their own keys or through the server's custodial key.

Domain test folders import this from their conftest.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import ean
from stdnum.cn import uscc

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.party.service import init_regulator
from foodtrace.store.base import Base
from foodtrace.store.db import migrate
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys

_serial = itertools.count(1)


def credit_code(n: int | None = None) -> str:
    """A valid 统一社会信用代码 unique within a test run."""
    base = f"913101{(n if n is not None else next(_serial)):06d}MA1K4F"[:17]
    return base + uscc.calc_check_digit(base)


TEST_PREFIX = "690123"
"""The GS1 company prefix every :func:`gtin` lies under (assign it to a producer first)."""


def gtin(n: int) -> str:
    body = f"0{TEST_PREFIX}{n:06d}"
    return body + ean.calc_check_digit(body)


@dataclass
class Actor:
    """A party with a token; ``key`` is None for a custodial party."""

    client: TestClient
    party_id: str
    kind: str
    token: str
    key: Ed25519PrivateKey | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def sign(self, type: str, body: dict[str, Any], **kw: Any) -> dict[str, Any]:
        assert self.key is not None, f"{self.party_id} is custodial"
        e = entry_mod.sign(
            self.key, type=type, author=kw.pop("author", self.party_id), body=body, **kw
        )
        return {**e.unsigned(), "sig": e.sig}

    def post(self, path: str, type: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
        """POST a client-signed entry if the party has a key, else the plain body."""
        payload = {"entry": self.sign(type, body, **kw)} if self.key is not None else body
        return self.client.post(path, json=payload, headers=self.headers)


def register_and_enrol(client: TestClient, regulator: Actor, entry: dict[str, Any]) -> str:
    """Register a party (``entry``: a signed ``party.register``) as ``regulator``, then trade
    the enrolment code of the answer for the party's own token, as a new party would; the
    token. The one place tests turn a registration into a token."""
    r = client.post("/api/v1/parties", json={"entry": entry}, headers=regulator.headers)
    assert r.status_code == 201, r.text
    created = r.json()
    enrol = {"party_id": created["party"]["party_id"], "code": created["enrolment_code"]}
    r = client.post("/api/v1/enrolments", json=enrol)
    assert r.status_code == 201, r.text
    token: str = r.json()["token"]
    return token


@dataclass
class Env:
    client: TestClient
    log: MerkleLog
    settings: Settings
    regulator: Actor
    parties: dict[str, Actor] = field(default_factory=dict)

    def add_party(
        self,
        kind: str,
        *,
        custodial: bool = False,
        name: str | None = None,
        prefixes: tuple[str, ...] = (),
        details: dict[str, str] | None = None,
    ) -> Actor:
        """A registered party with a token; ``prefixes`` are GS1 company prefixes the
        regulator then assigns to it (a producer needs one to register products);
        ``details`` adds ``party.register`` fields (gln, address, region)."""
        code = credit_code()
        key = None if custodial else keys.generate()
        party_id = f"{kind[:3]}-{code}"
        if custodial:
            r = self.client.post(
                "/api/v1/custodial-keys",
                json={"party_id": party_id},
                headers=self.regulator.headers,
            )
            assert r.status_code == 201, r.text
            public = r.json()["public_key"]
        else:
            assert key is not None
            public = keys.public_to_b64(key)
        body: dict[str, Any] = {
            "party_id": party_id,
            "name": name or f"测试{kind}",
            "kind": kind,
            "credit_code": code,
            "region": "上海市崇明区",
            "public_keys": [public],
            **(details or {}),
        }
        entry = self.regulator.sign("party.register", body)
        token = register_and_enrol(self.client, self.regulator, entry)
        actor = Actor(self.client, body["party_id"], kind, token, key)
        self.parties[actor.party_id] = actor
        for prefix in prefixes:
            self.assign_prefix(actor.party_id, prefix)
        return actor

    def assign_prefix(self, party_id: str, prefix: str) -> None:
        body = {"party_id": party_id, "prefix": prefix}
        r = self.client.post(
            "/api/v1/prefixes",
            json={"entry": self.regulator.sign("prefix.assign", body)},
            headers=self.regulator.headers,
        )
        assert r.status_code == 201, r.text

    def snapshot(self) -> dict[str, int]:
        """Log size and the row count of every table: a refused request changes none."""
        counts = {"log": self.log.size()}
        with Session(self.log.engine) as session:
            for table in Base.metadata.sorted_tables:
                counts[table.name] = session.scalar(select(func.count()).select_from(table)) or 0
        return counts


@pytest.fixture(name="env")
def env_fixture(db_url: str, tmp_path: Path) -> Iterator[Env]:
    with open_env(db_url, tmp_path) as env:
        yield env


@contextmanager
def open_env(url: str, tmp_path: Path, **settings_kw: Any) -> Iterator[Env]:
    """The app on ``url`` with its bootstrapped regulator; ``settings_kw`` adds settings
    (``sequencer="candidate"``: writes go through an elected sequencer)."""
    migrate(url, "heads")  # "heads": parallel branches may exist until the lead merges them
    settings = Settings(
        data_dir=tmp_path / "var",
        database_url=url,
        log_origin="test.foodtrace/log",
        batch_max_wait_s=0.001,
        **settings_kw,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        log: MerkleLog = app.state.log
        boot = init_regulator(
            log,
            party_id="gov-sh",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp_path / "regulator.key",
        )
        regulator = Actor(
            client, boot.party_id, "regulator", boot.token, keys.read_private(boot.key_file)
        )
        yield Env(client, log, settings, regulator)


def assert_problem(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    return body


_glns = itertools.count(1)


def lab_gln() -> str:
    """A GLN unique within a test run, for a lab that is sent samples (see :func:`sample`)."""
    body = f"690999{next(_glns):06d}"
    return body + ean.calc_check_digit(body)


def sample(env: Env, holder: Actor, lab_gln: str, gtin: str, lot_code: str, when: str) -> None:
    """``holder`` (a custodial holder of the lot, or inspector) records sending a sample of
    the lot to the lab with GLN ``lab_gln``: the EPCIS ``sampling`` event that lets the lab
    report on the lot (custody of records, README)."""
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": when,
                    "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE",
                    "bizStep": "sampling",
                    "epcList": [],
                    "quantityList": [{"epcClass": f"https://id.gs1.org/01/{gtin}/10/{lot_code}"}],
                    "destinationList": [
                        {
                            "type": "possessing_party",
                            "destination": f"https://id.gs1.org/417/{lab_gln}",
                        }
                    ],
                }
            ]
        },
    }
    r = env.client.post(
        "/epcis/capture",
        content=json.dumps(document).encode(),
        headers={**holder.headers, "content-type": "application/ld+json"},
    )
    assert r.status_code == 202 and r.json()["success"], r.text


def pointers(r: httpx.Response) -> set[str]:
    return {e["pointer"] for e in r.json()["errors"]}
