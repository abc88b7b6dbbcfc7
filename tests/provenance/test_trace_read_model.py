"""The trace read model (``trace_nodes``): kept by the live projector for every node, equal
to the summaries of the tables it summarises, and filled by its migration on a database
that already has a projection (both databases)."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from recordharness import Env
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from supplychain import captured, member, product_lot, qty, receive, ship, transform

from foodtrace.provenance import rebuild, service
from foodtrace.provenance.models import LineageNode, TraceNode
from foodtrace.store.db import alembic_config, migrate
from foodtrace.trace.provenance import Origin

REVISION = "0018_trace_read"


def _chain(env: Env) -> tuple[str, str]:
    farm, proc, shop = (member(env, k) for k in ("producer", "processor", "retailer"))
    code, lot = product_lot(farm, 8, "L8", quantity=500)
    captured(env, farm, [ship("2026-11-21T14:00:00+08:00", farm, proc, [qty(code, lot, 500)])])
    captured(
        env,
        proc,
        [
            receive("2026-11-21T19:00:00+08:00", farm, proc, [qty(code, lot, 500)]),
            transform(
                "2026-11-22T08:00:00+08:00",
                [qty(code, lot, 500)],
                [qty("06901234999997", "S8", 400)],
            ),
            ship("2026-11-22T10:00:00+08:00", proc, shop, [qty("06901234999997", "S8", 400)]),
        ],
    )
    captured(
        env,
        shop,
        [receive("2026-11-22T18:00:00+08:00", proc, shop, [qty("06901234999997", "S8", 400)])],
    )
    return code, lot


def test_every_node_has_a_summary_and_the_migration_refills_the_same(env: Env) -> None:
    code, lot = _chain(env)
    origin = Origin.lot(code, lot)
    with Session(env.log.engine) as session:
        nodes = session.scalar(select(func.count()).select_from(LineageNode))
        assert nodes and session.scalar(select(func.count()).select_from(TraceNode)) == nodes
        live = rebuild.contents(session)["trace_nodes"]
        answer = service.trace(session, origin, direction="downstream").to_json()
    assert len(answer["lots"]) == 2 and len(answer["parties"]) == 3
    url = env.log.engine.url.render_as_string(hide_password=False)
    cfg = alembic_config(url)
    below = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(below, str)
    env.log.engine.dispose()
    command.downgrade(cfg, below)  # drops the read model
    assert not inspect(env.log.engine).has_table("trace_nodes")
    migrate(url, "heads")  # recreates it from the projection's tables
    with Session(env.log.engine) as session:
        assert rebuild.contents(session)["trace_nodes"] == live
        assert service.trace(session, origin, direction="downstream").to_json() == answer
