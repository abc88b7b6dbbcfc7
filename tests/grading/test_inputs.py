"""The grade inputs read from real EPCIS captures and reports, on both databases: trace
completeness and timeliness, recalls of lots a party handled, failed reports about its lots."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from recordharness import TEST_PREFIX, Actor, Env, gtin, lab_gln, sample
from sqlalchemy import Connection, event

from foodtrace.grading import flows, hook, inputs, policyfile
from foodtrace.grading.flows import local_day

PDF = b"%PDF-1.4 failed test report\n%%EOF\n"
GTIN = gtin(1)


def _dl(lot: str) -> str:
    return f"https://id.gs1.org/01/{GTIN}/10/{lot}"


def _event(hours_ago: float, step: str, lot: str, **extra: Any) -> dict[str, Any]:
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    return {
        "type": "ObjectEvent",
        "eventTime": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+08:00",
        "action": "OBSERVE",
        "bizStep": step,
        "quantityList": [{"epcClass": _dl(lot), "quantity": 10, "uom": "KGM"}],
        **extra,
    }


def _capture(env: Env, actor: Actor, events: list[dict[str, Any]]) -> None:
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }
    r = env.client.post(
        "/epcis/capture",
        json=document,
        headers={**actor.headers, "Content-Type": "application/ld+json"},
    )
    assert r.status_code in (201, 202), r.text
    assert r.json()["success"], r.json()


@pytest.fixture
def district(env: Env) -> tuple[Env, Actor, Actor]:
    """A farm whose lot L1 is recalled and failed a test, and the inspector who recalled it
    and sent the sample: (env, farm, inspector)."""
    farm = env.add_party("producer", custodial=True)
    inspector = env.add_party("inspector", custodial=True)
    number = lab_gln()
    lab = env.add_party("lab", details={"gln": number})
    env.assign_prefix(farm.party_id, TEST_PREFIX)
    assert (
        farm.post(
            "/api/v1/products", "product.register", {"gtin": GTIN, "name": "菠菜"}
        ).status_code
        == 201
    )
    lot = {
        "gtin": GTIN,
        "lot_code": "L1",
        "production_date": "2026-03-01",
        "quantity": 10,
        "unit": "kg",
    }
    assert farm.post("/api/v1/lots", "lot.create", lot).status_code == 201
    where = {"readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"}}
    _capture(
        env,
        farm,
        [
            _event(1, "commissioning", "L1", **where),  # complete and timely
            _event(2, "shipping", "L1", **where),  # shipping without source/destination
            _event(48, "commissioning", "L2", **where),  # recorded two days late
        ],
    )
    _capture(env, inspector, [_event(0.5, "holding", "L1", disposition="recalled", **where)])
    sample(env, inspector, number, GTIN, "L1", f"{local_day().isoformat()}T00:00:00+08:00")
    r = env.client.post(
        "/api/v1/blobs", content=PDF, headers={**lab.headers, "content-type": "application/pdf"}
    )
    assert r.status_code == 201, r.text
    report = {
        "report_number": "R-FAIL-1",
        "subject": {"kind": "lot", "gtin": GTIN, "lot_code": "L1"},
        "tested_on": local_day().isoformat(),
        "items": [
            {
                "name": "毒死蜱",
                "value": "0.12",
                "limit": "≤0.05",
                "unit": "mg/kg",
                "standard": "GB 2763-2021",
                "result": "fail",
            }
        ],
        "conclusion": "fail",
        "pdf_sha256": r.json()["sha256"],
        "pdf_size": len(PDF),
    }
    assert lab.post("/api/v1/reports", "report.issue", report).status_code == 201
    return env, farm, inspector


def test_epcis_and_report_inputs(district: tuple[Env, Actor, Actor]) -> None:
    env, farm, inspector = district
    since = local_day() - timedelta(days=30)
    with env.client.app.state.sessions() as session:  # type: ignore[attr-defined]
        trace = inputs.gather_trace_events(session, since)[farm.party_id]
        recalls = inputs.recalled_lots(session, since)
        failed = inputs.gather_failed_reports(session, since)
        assert inputs.businesses(session) == [farm.party_id]
        # a regrade of some parties starts from their own lots: the same answer for them
        farm_only = [farm.party_id]
        mine = {farm.party_id: recalls[farm.party_id]}
        assert inputs.recalled_lots(session, since, only=farm_only) == mine
        assert inputs.recalled_lots(session, since, author=farm.party_id) == mine
        reported = {farm.party_id: failed[farm.party_id]}
        assert inputs.gather_failed_reports(session, since, only=farm_only) == reported
        # the inspector handled L1 too (recall, sampling): in the answers for all only
        assert set(recalls) == set(failed) == {farm.party_id, inspector.party_id}
        assert inputs.businesses(session, only=[inspector.party_id]) == []
    assert sorted((e.biz_step, e.has_where, e.has_what, e.has_destination) for e in trace) == [
        ("commissioning", True, True, False),
        ("commissioning", True, True, False),
        ("shipping", True, True, False),
    ]
    assert len(recalls[farm.party_id]) == 1  # it handled the recalled lot L1
    assert failed[farm.party_id] == [local_day()]  # the failed report names its lot

    # each of those writes regraded the farm (on write, the default): a recompute agrees
    r = env.client.post("/api/v1/grades/recompute", headers=env.regulator.headers)
    assert r.status_code == 200, r.text
    assert r.json()["written"] == 0
    grade = env.client.get(f"/api/v1/parties/{farm.party_id}/grades").json()[0]  # newest
    values = {i["name"]: i for i in grade["record"]["indicators"]}
    assert values["trace_records"]["facts"] == {"events": 3, "complete": 2, "timely": 2}
    assert values["trace_records"]["value"] == 0.3333  # only the first is complete and timely
    assert (values["recalls"]["value"], values["test_reports"]["value"]) == (1, 1)


FULL_SCAN = re.compile(r"^(SCAN (?!held_lots\b|CONSTANT ROW)\S+|.*Seq Scan on \S+)")
"""A plan line reading a whole table: SQLite's ``SCAN t`` (not of the CTE it built, nor of
the constant rows of an ``IN (VALUES …)``) or, with
sequential scans priced out, PostgreSQL's ``Seq Scan on t`` (no index could serve)."""


def _plan(connection: Connection, statement: str, params: Any) -> list[str]:
    if connection.dialect.name == "sqlite":
        return [
            row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        ]
    connection.exec_driver_sql("SET enable_seqscan = off")
    return [row[0].strip() for row in connection.exec_driver_sql("EXPLAIN " + statement, params)]


def test_a_regrade_of_one_business_reads_by_index_only(
    district: tuple[Env, Actor, Actor],
) -> None:
    """Every query of a regrade of one business (its inputs, its last grade, the handlers of
    a lot) finds its rows through an index: none reads a whole table, so the cost follows
    that business's rows, not the district's."""
    env, farm, _ = district
    statements: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, params))

    policy = policyfile.load()
    with env.client.app.state.sessions() as session:  # type: ignore[attr-defined]
        own = session.connection()  # this session's statements, not the background workers'
        event.listen(own, "before_cursor_execute", note)
        flows.compute(session, policy, local_day(), only=[farm.party_id])
        hook.handlers(session, {(GTIN, "L1")})
        event.remove(own, "before_cursor_execute", note)
    assert len(statements) >= 10  # 9 reads of the inputs and the last grade, the handlers
    with env.client.app.state.engine.connect() as connection:  # type: ignore[attr-defined]
        scans = {
            line
            for statement, params in statements
            for line in _plan(connection, statement, params)
            if FULL_SCAN.match(line)
        }
    assert scans == set()
