"""The trace read model (pure): a node's summary document, and a trace shaped from the
summaries of the nodes a walk reached. Golden answers in data/trace_read_golden.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from foodtrace.trace.provenance import Origin
from foodtrace.trace.trace_read import (
    Activity,
    NodeRow,
    OutEdge,
    decode,
    decode_all,
    decode_trace,
    party_ids,
    shape,
    summarize,
)

GOLDEN = json.loads((Path(__file__).parent / "data" / "trace_read_golden.json").read_text())
DL = "https://id.gs1.org/01/06901234000004/10"
T = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))


def at(hours: float) -> datetime:
    return T + timedelta(hours=hours)


# Lot B: produced by proc from A (entry 3), shipped in two parts (5), received by two shops
# (6, 7: shop-2 in two receipts of the same entry), and transformed into C (8).
B_ACTIVITIES = [
    Activity(31, "proc", "produced", 3, at(0), 60.0, "KGM", None),
    Activity(52, "proc", "shipped", 5, at(1).astimezone(CST), None, None, "shop-1"),
    Activity(61, "shop-1", "received", 6, at(2).replace(tzinfo=None), 20.0, "KGM", "proc"),
    Activity(72, "shop-2", "received", 7, at(3), 0.1, "KGM", "proc"),
    Activity(71, "shop-2", "received", 7, at(3), 0.2, "KGM", "proc"),
    Activity(80, "proc", "transformed", 8, at(4), 10.0, "KGM", None),
]
B_OUT = [OutEdge(9, f"{DL}/C", "transformation", 8, "proc", 10.0, "KGM", at(4))]


def test_summary_is_the_golden_document_whatever_the_row_order() -> None:
    summary = summarize(B_ACTIVITIES, B_OUT)
    assert json.loads(summary) == GOLDEN["summary_B"]
    assert summarize(reversed(B_ACTIVITIES), B_OUT) == summary  # text, not only content
    # naive (SQLite) and offset times are the same instants, stored in UTC
    assert json.loads(summary)["first"] == "2026-11-21T08:00:00+00:00"


def test_a_node_without_activities_has_an_empty_summary() -> None:
    assert decode(summarize([], [])) == decode(None)


def _nodes(depth_c: int | None = 1) -> tuple[list[NodeRow], list[dict[str, Any]]]:
    a_acts = [Activity(11, "farm", "created", 1, at(-5), 100.0, "KGM", None)]
    a_out = [OutEdge(4, f"{DL}/B", "transformation", 3, "proc", 60.0, "KGM", at(0))]
    rows = [
        NodeRow(
            1, 0, f"{DL}/A", "lot", "06901234000004", "A", summarize(a_acts, a_out), 0, 99.0, "千克"
        ),
        NodeRow(
            2,
            1,
            f"{DL}/B",
            "lot",
            "06901234000004",
            "B",
            summarize(B_ACTIVITIES, B_OUT),
            None,
            None,
            None,
        ),
    ]
    if depth_c is not None:
        rows.append(
            NodeRow(3, depth_c, f"{DL}/C", "lot", "06901234000004", "C", None, None, None, None)
        )
    return rows, [decode(r.summary) for r in rows]


def test_trace_shaped_from_summaries_is_the_golden_answer() -> None:
    nodes, docs = _nodes()
    holds = [(2, "shop-2", 7), (2, "shop-1", 6), (1, "proc", 2), (3, "proc", 8)]
    assert party_ids(docs) == {"farm", "proc", "shop-1", "shop-2"}
    names = {"farm": "农场", "proc": "加工厂", "shop-1": "一号店"}  # shop-2 unregistered
    result = shape(Origin.lot("6901234000004", "A"), "downstream", 10, nodes, docs, holds, names)
    assert result.to_json() == GOLDEN["trace_A"]


def test_an_edge_to_a_node_the_walk_did_not_reach_is_left_out() -> None:
    nodes, docs = _nodes(depth_c=None)  # depth limit 1: C not reached
    result = shape(Origin.lot("6901234000004", "A"), "downstream", 1, nodes, docs, [], {})
    assert [(e.kind, e.entry_index) for e in result.edges] == [
        ("transformation", 3),
        ("shipment", 6),
        ("shipment", 7),
        ("shipment", 7),
    ]
    b = next(lot for lot in result.lots if lot.lot_code == "B")
    assert 8 in b.entry_indices  # its own transforming activity still proves it
    assert b.holder is None and b.holders == ()


def test_summaries_decoded_together_are_those_decoded_one_by_one() -> None:
    nodes, docs = _nodes()
    summaries = [n.summary for n in nodes]
    assert decode_all(summaries) == docs == [decode(s) for s in summaries]
    assert decode_all([None]) == [decode(None)]
    assert decode_all([]) == []


def test_holds_names_and_summaries_decoded_in_one_call_shape_the_golden_answer() -> None:
    nodes, docs = _nodes()
    holds = '[[2,"shop-2",7],[2,"shop-1",6],[1,"proc",2],[3,"proc",8]]'  # as SQL aggregates
    names = '[["farm","农场"],["proc","加工厂"],["shop-1","一号店"],["shop-2",null]]'
    decoded, held, named = decode_trace((n.summary for n in nodes), holds, names)
    assert decoded == docs
    assert held == [[2, "shop-2", 7], [2, "shop-1", 6], [1, "proc", 2], [3, "proc", 8]]
    assert named == {"farm": "农场", "proc": "加工厂", "shop-1": "一号店", "shop-2": None}
    result = shape(Origin.lot("6901234000004", "A"), "downstream", 10, nodes, decoded, held, named)
    assert result.to_json() == GOLDEN["trace_A"]


def test_a_party_several_summaries_name_has_its_roles_and_entries_merged_in_order() -> None:
    a_acts = [
        Activity(11, "farm", "shipped", 4, at(-4), None, None, "proc"),
        Activity(10, "farm", "created", 1, at(-5), 100.0, "KGM", None),
    ]
    b_acts = [
        Activity(20, "farm", "observed", 2, at(-3), None, None, None),
        Activity(21, "farm", "received", 9, at(-1), 5.0, "KGM", "proc"),
        Activity(22, "farm", "received", 9, at(-1), 2.5, "KGM", "proc"),
    ]
    nodes = [
        NodeRow(1, 0, f"{DL}/A", "lot", None, None, summarize(a_acts, []), None, None, None),
        NodeRow(2, 0, f"{DL}/B", "lot", None, None, summarize(b_acts, []), None, None, None),
    ]
    docs = [decode(n.summary) for n in nodes]
    result = shape(Origin.lot("6901234000004", "A"), "downstream", 10, nodes, docs, [], {})
    (farm,) = result.parties
    assert farm.roles == ("created", "received", "observed", "shipped")
    assert farm.entry_indices == (1, 2, 4, 9)
    assert farm.received == (("KGM", 7.5),)
    assert farm.name is None
