"""The EPCIS projector's rows for a stream of ``epcis.event`` entries, built in memory and
inserted in bulk (``bench/dataset.py``; ``bench/trace_graph.BulkProjection`` does the same for
the provenance tables).

The rows are the live projector's (``foodtrace.epcis.service.project_event``): the same ORM
objects from the same functions (``foodtrace.epcis.rows``, ``index_event`` with a collecting
session), only the primary keys are assigned here, in entry order, as the database's
autoincrement would on a table written by this run alone; what the projector reads from the
database (the duplicate check and custody) is the generator's to get right, and
``bench/dataset.py --check`` compares every table with the live path's on a sample."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, inspect

from foodtrace.epcis.index.project import index_event
from foodtrace.epcis.rows import detail_rows, event_row
from foodtrace.trace.entry import Entry
from foodtrace.trace.epcis import events


@dataclass
class Collector:
    """Stands in for the session ``index_event`` adds its rows to."""

    rows: list[Any] = field(default_factory=list)

    def add(self, obj: Any) -> None:
        self.rows.append(obj)

    def add_all(self, objs: Iterable[Any]) -> None:
        self.rows.extend(objs)


@dataclass
class EpcisRows:
    """Rows of the EPCIS tables, in the order the projector would insert them."""

    next_pk: int = 1
    rows: list[Any] = field(default_factory=list)

    def project(self, index: int, entry: Entry) -> None:
        event = dict(entry.body["event"])
        facts = events.extract(event)
        pk = self.next_pk
        self.next_pk += 1
        out = self.rows
        out.append(event_row(entry, index, event, facts, pk))
        out.extend(detail_rows(pk, facts))
        collected = Collector()
        index_event(collected, pk, event)  # type: ignore[arg-type]
        out.extend(collected.rows)

    def flush(self, conn: Connection) -> int:
        """Insert the rows collected so far, parents first; returns how many."""
        batches: dict[tuple[Any, tuple[str, ...]], list[dict[str, Any]]] = {}
        for obj in self.rows:
            mapper = inspect(obj).mapper
            values = {
                attr.columns[0].name: getattr(obj, attr.key)
                for attr in mapper.column_attrs
                if attr.key in obj.__dict__  # set by the projector's code: else the default
            }
            batches.setdefault((mapper.local_table, tuple(values)), []).append(values)
        count = 0
        for (table, _), rows in batches.items():  # epcis_events first: it is added first
            for i in range(0, len(rows), 5_000):
                conn.execute(insert(table), rows[i : i + 5_000])
            count += len(rows)
        self.rows = []
        return count
