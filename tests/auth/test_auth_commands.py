"""``foodtrace tokens …``, ``enrol`` and ``enrol-code``: the API commands are routed into
the test app, ``enrol-code`` writes to the test database as an operator would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from recordharness import Env
from typer.testing import CliRunner

from foodtrace.auth.commands import register
from foodtrace.trace import keys

API = "http://ft.test"


@pytest.fixture
def cli(env: Env, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    def route(method: str, url: str, **kw: Any) -> httpx.Response:
        kw.pop("timeout", None)
        return env.client.request(method, url.removeprefix(API), **kw)

    monkeypatch.setattr(httpx, "request", route)
    app = typer.Typer()
    register(app)
    return app


def run(cli: typer.Typer, *args: str) -> str:
    r = CliRunner().invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def token_in(output: str) -> str:
    found = re.search(r"API token  (ft_\S+)", output)
    assert found, output
    return found.group(1)


def test_an_operator_code_enrols_a_party_with_its_own_key(
    cli: typer.Typer, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOODTRACE_DATA_DIR", str(env.settings.data_dir))
    party = env.add_party("restaurant").party_id
    output = run(cli, "enrol-code", party, "--db", env.settings.resolved_database_url)
    found = re.search(r"code       (fte_\S+)", output)
    assert found, output
    key_file = tmp_path / "own.key"
    args = ["enrol", "--api", API, "--party", party, "--code", found.group(1)]
    enrolled = run(cli, *args, "--new-key", str(key_file), "--name", "后厨平板")
    token = token_in(enrolled)
    key_id = keys.key_id(keys.read_private(key_file))
    assert f"key id     {key_id}" in enrolled
    again = CliRunner().invoke(cli, [*args])
    assert again.exit_code == 1 and "401" in again.output
    missing = CliRunner().invoke(
        cli, ["enrol-code", "nobody", "--db", env.settings.resolved_database_url]
    )
    assert missing.exit_code == 1 and "not registered" in missing.output

    listed = run(cli, "tokens", "list", "--party", party, "--api", API, "--token", token)
    assert "后厨平板" in listed and token not in listed


def test_tokens_issue_rotate_revoke(cli: typer.Typer, env: Env) -> None:
    actor = env.add_party("producer")
    who = ["--party", actor.party_id, "--api", API, "--token", actor.token]
    issued = run(cli, "tokens", "issue", "--name", "扫码枪", "--days", "30", *who)
    second = token_in(issued)
    second_id = re.search(r"token id   (\d+)", issued)
    assert second_id
    rotated = token_in(run(cli, "tokens", "rotate", second_id.group(1), *who))
    me = {"Authorization": f"Bearer {second}"}
    assert env.client.get(f"/api/v1/parties/{actor.party_id}/tokens", headers=me).status_code == 401
    [*_, newest] = env.client.get(
        f"/api/v1/parties/{actor.party_id}/tokens", headers=actor.headers
    ).json()
    assert newest["name"] == "扫码枪" and not newest["revoked"]
    run(cli, "tokens", "revoke", str(newest["id"]), *who)
    me = {"Authorization": f"Bearer {rotated}"}
    assert env.client.get(f"/api/v1/parties/{actor.party_id}/tokens", headers=me).status_code == 401
    other = env.add_party("producer")
    refused = CliRunner().invoke(cli, ["tokens", "list", "--party", other.party_id, *who[2:]])
    assert refused.exit_code == 1 and "403" in refused.output
