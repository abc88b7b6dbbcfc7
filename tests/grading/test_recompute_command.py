"""``foodtrace grades recompute`` drains the dirty-set: it recomputes when the log, the day or
the policy moved, logs only what changed, and does nothing otherwise."""

from __future__ import annotations

from datetime import timedelta

from recordharness import Env
from typer.testing import CliRunner

from foodtrace.cli import app as cli
from foodtrace.grading.flows import local_day


def _run(env: Env, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        ["grades", "recompute", "--db", env.settings.resolved_database_url, *args],
        env={"FOODTRACE_DATA_DIR": str(env.settings.data_dir)},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_recompute_drains_only_when_something_moved(env: Env) -> None:
    shop = env.add_party("restaurant")
    today = local_day()
    assert "graded 1 businesses, logged 1 changed grades" in _run(env)
    assert "nothing moved" in _run(env)
    inspector = env.add_party("inspector")
    r = inspector.post(
        "/api/v1/inspections",
        "inspection.record",
        {"party_id": shop.party_id, "inspected_on": today.isoformat(), "result": "不合格"},
    )
    assert r.status_code == 201, r.text
    # the inspection moved the indicators and its write regraded the shop (on write, the
    # default): the log moved, so the drain recomputes, and finds nothing left to log
    assert "logged 0 changed grades" in _run(env)
    assert "nothing moved" in _run(env)
    later = (today + timedelta(days=400)).isoformat()
    assert "logged 1 changed grades" in _run(env, "--as-of", later)  # it aged out
    assert "logged 0 changed grades" in _run(env, "--as-of", later, "--force")
    grades = env.client.get(f"/api/v1/parties/{shop.party_id}/grades").json()
    inspections = [{i["name"]: i for i in g["record"]["indicators"]}["inspections"] for g in grades]
    assert [i["facts"].get("failed") for i in inspections] == [0, 1, 0]
