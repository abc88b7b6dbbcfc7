"""Stateful schemathesis: sequences of calls that follow our OpenAPI links (see
:mod:`foodtrace.api.links`), each feeding a real value from one answer into the next
request (a tracking number, a capture id, an enrolment code), in process, on SQLite.

Every response must not be a 5xx and must match what its operation declares (status,
content type, body schema). Writes go as a producer, everything else as a regulator, so
chains reach past authorisation. Bounded and deterministic: ``FOODTRACE_STATEFUL_EXAMPLES``
scenarios (default 5) of at most ``FOODTRACE_STATEFUL_STEPS`` calls (default 5), a fixed
derandomised seed; the stateless run (``test_openapi_fuzz.py``) stays as it is.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from recordharness import TEST_PREFIX, Actor, Env, credit_code
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from foodtrace.api.app import create_app
from foodtrace.api.links import LINKS
from foodtrace.config import Settings
from foodtrace.party.service import init_regulator
from foodtrace.store.db import migrate
from foodtrace.trace import keys

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EXAMPLES = int(os.environ.get("FOODTRACE_STATEFUL_EXAMPLES", "5"))
STEPS = int(os.environ.get("FOODTRACE_STATEFUL_STEPS", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PRODUCER_WRITES = {("POST", "/epcis/capture")}
NOT_CALLED = {("POST", "/epcis/queries/{queryName}/subscriptions")}  # posts webhooks out


class World:
    def __init__(self, client: TestClient, document: dict[str, Any], tokens: dict[str, str]):
        self.client = client
        self.document = document
        self.tokens = tokens
        self.calls: list[tuple[str, str, int]] = []


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("openapi-stateful")
    url = f"sqlite:///{tmp / 'foodtrace.db'}"
    migrate(url, "heads")
    app = create_app(
        Settings(data_dir=tmp / "var", database_url=url, batch_max_wait_s=0.001, chain_url="")
    )
    with TestClient(app) as client:
        boot = init_regulator(
            app.state.log,
            party_id="gov-stateful",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp / "regulator.key",
        )
        regulator = Actor(
            client, boot.party_id, "regulator", boot.token, keys.read_private(boot.key_file)
        )
        env = Env(client, app.state.log, app.state.settings, regulator)
        producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
        yield World(client, app.openapi(), {"regulator": boot.token, "producer": producer.token})


def test_the_served_document_carries_every_link(world: World) -> None:
    for (path, method, status), links in LINKS.items():
        declared = world.document["paths"][path][method]["responses"][status]["links"]
        assert set(links) <= set(declared), (method, path)


def test_linked_calls_answer_as_documented(world: World) -> None:
    document = copy.deepcopy(world.document)
    for method, path in NOT_CALLED:
        del document["paths"][path][method.lower()]
    schema = schemathesis.openapi.from_dict(document)

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Response:
            key = (case.method.upper(), case.operation.path)
            caller = "producer" if key in PRODUCER_WRITES else "regulator"
            headers = {"Authorization": f"Bearer {world.tokens[caller]}"}
            self._headers = headers
            sent = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            for transport_only in ("timeout", "verify", "allow_redirects", "cookies", "auth"):
                sent.pop(transport_only, None)
            if "data" in sent and not isinstance(sent["data"], dict):
                sent["content"] = sent.pop("data")
            answer = world.client.request(**sent, follow_redirects=False)
            world.calls.append((key[0], key[1], answer.status_code))
            return Response.from_any(answer)

        def validate_response(self, response: Response, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, headers=self._headers)

    Machine.run(
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    # the run followed links: some call used a value an earlier answer gave
    followed = {(m, p) for m, p, _ in world.calls}
    targets = {
        (link["operationRef"].rsplit("/", 1)[1].upper(), _path(link["operationRef"]))
        for links in LINKS.values()
        for link in links.values()
    }
    assert followed & targets, f"no linked operation was called: {sorted(followed)[:10]}"


def _path(ref: str) -> str:
    pointer = ref.removeprefix("#/paths/").rsplit("/", 1)[0]
    return pointer.replace("~1", "/").replace("~0", "~")
