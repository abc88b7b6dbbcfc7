"""EPCIS repositories for tests: a migrated database on each backend, the API around it,
and a producer with a server-held key and a token.

``repository`` is per test (on ``db_url``); :func:`open_repository` builds more of them for
module-scoped fixtures, which need their own databases outside ``db_url``'s function scope.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from foodtrace.api.app import create_app
from foodtrace.auth import Role, issue_token
from foodtrace.config import Settings
from foodtrace.epcis.models import CaptureJob, EpcisEvent, EpcisEventEpc
from foodtrace.record.custody import create_custodial_key
from foodtrace.store.authors import register_key
from foodtrace.store.db import make_engine, migrate
from foodtrace.store.log import MerkleLog

EXAMPLES = "epcis/examples"
PRODUCER = "farm-001"


@dataclass
class Repository:
    """One FoodTrace instance: its API client, log and a producer's token."""

    client: TestClient
    log: MerkleLog
    settings: Settings
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def sessions(self) -> Session:
        factory: Any = self.client.app.state.sessions  # type: ignore[attr-defined]
        session: Session = factory()
        return session

    def capture(self, document: Any, **headers: str) -> Any:
        return self.client.post(
            "/epcis/capture",
            content=json.dumps(document),
            headers={"Content-Type": "application/ld+json", **self.auth, **headers},
        )

    def add_party(self, party: str, role: Role, *, custodial: bool = True) -> str:
        """A party with a token and (if ``custodial``) a registered server-held key."""
        with self.sessions() as session, session.begin():
            public = create_custodial_key(session, party, self.settings) if custodial else None
            token = issue_token(session, party, role)
        if public is not None:
            register_key(self.log.engine, party, public)
        return token

    def counts(self) -> tuple[int, int, int, int]:
        """Log size and row counts of the EPCIS tables: what "nothing stored" compares."""
        with self.sessions() as session:
            return (
                self.log.size(),
                session.scalar(select(func.count()).select_from(EpcisEvent)) or 0,
                session.scalar(select(func.count()).select_from(EpcisEventEpc)) or 0,
                session.scalar(select(func.count()).select_from(CaptureJob)) or 0,
            )


@contextlib.contextmanager
def open_repository(url: str, data_dir: Path, **overrides: Any) -> Iterator[Repository]:
    """A repository; ``overrides`` are further :class:`Settings` fields."""
    migrate(url, "heads")  # every branch, even while two areas have parallel heads
    settings = Settings(data_dir=data_dir, log_origin="test.foodtrace/log", **overrides)
    engine = make_engine(url)
    app = create_app(settings, engine=engine)
    with TestClient(app) as client:
        repo = Repository(client, app.state.log, settings, "")
        repo.token = repo.add_party(PRODUCER, Role.PRODUCER)
        yield repo
    engine.dispose()


def load(testdata: Path, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((testdata / EXAMPLES / name).read_text())
    return loaded


def object_document(ns: range | list[int], lot: str, *, hour: int = 8) -> dict[str, Any]:
    """An EPCISDocument of one ObjectEvent per ``n`` naming ``lot``; ``n`` makes each event
    distinct (its eventID, eventTime minute offset and quantity)."""
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventID": event_uuid(n),
                    "eventTime": (datetime(2026, 3, 1, hour, tzinfo=UTC) + timedelta(minutes=n))
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "eventTimeZoneOffset": "+08:00",
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "quantityList": [{"epcClass": lot, "quantity": n, "uom": "KGM"}],
                }
                for n in ns
            ]
        },
    }


def event_uuid(n: int) -> str:
    return f"urn:uuid:00000000-0000-4000-8000-{n:012d}"
