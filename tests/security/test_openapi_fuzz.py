"""schemathesis against our own OpenAPI document, in process, on SQLite.

Every operation the document declares gets requests generated from its schema (valid ones
and, with the negative mode, invalid ones), sent as a regulator (the role that passes the
most authorisation checks), as a producer (whose writes the regulator may not make) and
anonymously. Each response must not
be a 5xx, must carry a status code the operation declares, a declared content type, and a
body matching the declared schema.

Bounded for the default run: ``FOODTRACE_FUZZ_EXAMPLES`` examples per
operation (default 2); ``FOODTRACE_FUZZ_EXAMPLES=100`` makes a long run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_world import CHECKS, OpenApiWorld, openapi_world, send
from schemathesis import GenerationMode

from foodtrace.api.app import create_app
from foodtrace.config import Settings

EXAMPLES = int(os.environ.get("FOODTRACE_FUZZ_EXAMPLES", "2"))
# Operations whose calls leave the process or wait on purpose are not fuzzed here.
NOT_FUZZED = {
    ("POST", "/epcis/queries/{queryName}/subscriptions"): "would post webhooks to any address",
}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenApiWorld]:
    with openapi_world(tmp_path_factory, "fuzz") as world:
        yield world


def _operations() -> list[Any]:
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    app = create_app(Settings(data_dir=tmp / "foodtrace-openapi", database_url="sqlite://"))
    document = app.openapi()
    app.state.log.close()
    app.state.engine.dispose()
    schema = schemathesis.openapi.from_dict(document)
    return [result.ok() for result in schema.get_all_operations()]


OPERATIONS = _operations()


CALLERS = ("regulator", "producer", "anonymous")


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: f"{op.method.upper()} {op.path}")
def test_operation_answers_as_documented(api: OpenApiWorld, operation: Any) -> None:
    reason = NOT_FUZZED.get((operation.method.upper(), operation.path))
    if reason:
        pytest.skip(reason)  # listed in NOT_FUZZED with the reason
    # Valid and invalid requests, as a regulator or anonymous. Operations whose parameters
    # admit no invalid value (a free-text path segment) get only valid ones.
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(caller=st.sampled_from(CALLERS), case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(caller: str, case: Any) -> None:
        token = api.tokens.get(caller)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = send(api.client, case, headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
