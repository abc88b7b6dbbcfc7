"""Our OpenAPI links (see :mod:`foodtrace.api.links`), followed two ways, in process, on
SQLite; every response must not be a 5xx and must match what its operation declares
(status, content type, body schema).

- Deterministically (``test_openapi_links.py``): for every link, a valid request to its
  source operation, then the target called with the values the link names in that answer.
- At random (stateful schemathesis, this file): sequences of generated calls that may follow the
  links. Writes go as a producer, everything else as a regulator. Bounded and
  deterministic: ``FOODTRACE_STATEFUL_EXAMPLES`` scenarios (default 5) of at most
  ``FOODTRACE_STATEFUL_STEPS`` calls (default 5), a fixed derandomised seed. Which links a
  random run reaches depends on what it happens to generate, so it checks the answers it
  gets, and the deterministic walk is what checks that each link is followed.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_world import CHECKS, OpenApiWorld, openapi_world, send
from schemathesis.core.transport import Response

from foodtrace.api.links import LINKS

EXAMPLES = int(os.environ.get("FOODTRACE_STATEFUL_EXAMPLES", "5"))
STEPS = int(os.environ.get("FOODTRACE_STATEFUL_STEPS", "5"))
PRODUCER_WRITES = {("POST", "/epcis/capture")}
NOT_CALLED = {("POST", "/epcis/queries/{queryName}/subscriptions")}  # posts webhooks out


@dataclass
class World(OpenApiWorld):
    calls: list[tuple[str, str, int]]  # (method, path, status) of every call made


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with openapi_world(tmp_path_factory, "stateful") as base:
        yield World(base.client, base.document, base.tokens, base.env, [])


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
            answer = send(world.client, case, headers)
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
    assert world.calls, "the random run made no call"
