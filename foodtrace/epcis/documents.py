"""EPCIS documents around stored events: query results (EPCISQueryDocument, for queries and
subscription deliveries) and a lot's export (EPCISDocument). Events are given exactly as
stored, with every namespace prefix they bring declared in the document's context."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from foodtrace.epcis.models import EpcisEvent
from foodtrace.trace.epcis.validate import CONTEXT_URLS


def stored_event(row: EpcisEvent) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(row.body)
    return loaded


def _document_context(rows: Sequence[EpcisEvent]) -> list[Any]:
    """The standard context plus every namespace prefix the events bring with them."""
    extra: dict[str, Any] = {}
    for row in rows:
        context = stored_event(row).get("@context")
        for item in context if isinstance(context, list) else [context]:
            if isinstance(item, dict):
                extra.update(item)
    return [CONTEXT_URLS[0], extra] if extra else [CONTEXT_URLS[0]]


def query_document(
    rows: Sequence[EpcisEvent],
    query_name: str = "SimpleEventQuery",
    subscription_id: str | None = None,
) -> dict[str, Any]:
    """An EPCISQueryDocument holding ``rows`` as stored (a query's or subscription's
    results)."""
    results: dict[str, Any] = {"queryName": query_name}
    if subscription_id is not None:
        results["subscriptionID"] = subscription_id
    results["resultsBody"] = {"eventList": [stored_event(r) for r in rows]}
    return {
        "@context": _document_context(rows),
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {"queryResults": results},
    }


def epcis_document(rows: Sequence[EpcisEvent]) -> dict[str, Any]:
    """An EPCISDocument holding ``rows`` as stored (a lot's export)."""
    return {
        "@context": _document_context(rows),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _now(),
        "epcisBody": {"eventList": [stored_event(r) for r in rows]},
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
