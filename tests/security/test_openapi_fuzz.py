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
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from recordharness import TEST_PREFIX, Actor, Env, credit_code
from schemathesis import GenerationMode
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

EXAMPLES = int(os.environ.get("FOODTRACE_FUZZ_EXAMPLES", "2"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations whose calls leave the process or wait on purpose are not fuzzed here.
NOT_FUZZED = {
    ("POST", "/epcis/queries/{queryName}/subscriptions"): "would post webhooks to any address",
}


class Api:
    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client = client
        self.tokens = tokens


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp = tmp_path_factory.mktemp("openapi-fuzz")
    url = f"sqlite:///{tmp / 'foodtrace.db'}"
    migrate(url, "heads")
    app = create_app(
        Settings(data_dir=tmp / "var", database_url=url, batch_max_wait_s=0.001, chain_url="")
    )
    with TestClient(app) as client:
        boot = init_regulator(
            app.state.log,
            party_id="gov-fuzz",
            name="上海市市场监督管理局",
            credit_code=credit_code(0),
            key_file=tmp / "regulator.key",
        )
        regulator = Actor(
            client, boot.party_id, "regulator", boot.token, keys.read_private(boot.key_file)
        )
        env = Env(client, app.state.log, app.state.settings, regulator)
        producer = env.add_party("producer", prefixes=(TEST_PREFIX,))
        yield Api(client, {"regulator": boot.token, "producer": producer.token})


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
def test_operation_answers_as_documented(api: Api, operation: Any) -> None:
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
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
        for transport_only in ("timeout", "verify", "allow_redirects", "cookies", "auth"):
            kwargs.pop(transport_only, None)
        if "data" in kwargs and not isinstance(kwargs["data"], dict):
            kwargs["content"] = kwargs.pop("data")
        response = api.client.request(**kwargs, follow_redirects=False)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
