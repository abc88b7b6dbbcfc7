"""The world both schemathesis runs call into (``test_openapi_fuzz.py``, stateless, and
``test_openapi_stateful.py``, following links): the app in process on a SQLite file, with a
regulator and a producer, and the checks every response must pass."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from recordharness import TEST_PREFIX, Actor, Env, credit_code
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from foodtrace.api.app import create_app
from foodtrace.config import Settings
from foodtrace.party.service import init_regulator
from foodtrace.store.db import migrate
from foodtrace.trace import keys

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class OpenApiWorld:
    client: TestClient
    document: dict[str, Any]
    tokens: dict[str, str]  # by caller: "regulator", "producer"
    env: Env  # the same app, for tests that build valid requests of their own


@contextmanager
def openapi_world(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[OpenApiWorld]:
    tmp = tmp_path_factory.mktemp(f"openapi-{name}")
    url = f"sqlite:///{tmp / 'foodtrace.db'}"
    migrate(url, "heads")
    app = create_app(
        Settings(data_dir=tmp / "var", database_url=url, batch_max_wait_s=0.001, chain_url="")
    )
    with TestClient(app) as client:
        boot = init_regulator(
            app.state.log,
            party_id=f"gov-{name}",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp / "regulator.key",
        )
        regulator = Actor(
            client, boot.party_id, "regulator", boot.token, keys.read_private(boot.key_file)
        )
        env = Env(client, app.state.log, app.state.settings, regulator)
        producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
        tokens = {"regulator": boot.token, "producer": producer.token}
        yield OpenApiWorld(client, app.openapi(), tokens, env)


def send(client: TestClient, case: Any, headers: dict[str, str]) -> Any:
    """A schemathesis case sent through the in-process client, as generated."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
    for transport_only in ("timeout", "verify", "allow_redirects", "cookies", "auth"):
        kwargs.pop(transport_only, None)
    if "data" in kwargs and not isinstance(kwargs["data"], dict):
        kwargs["content"] = kwargs.pop("data")
    return client.request(**kwargs, follow_redirects=False)
