"""Entries ready to append: one :class:`Record` each, or many in columns (:class:`Leaves`).

What the log's append paths take and give back (a group's indices or the exception that
rejected it), kept apart from the log so the sequencer and the bulk loaders can build them
without the writer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import NamedTuple

from sqlalchemy.orm import Session

from foodtrace.trace import entry as entry_mod
from foodtrace.trace.entry import Entry

Projector = Callable[[Session, int, Entry], None]
"""Run inside the append transaction for each entry of a group: ``(session, index, entry)``."""

_sha256 = hashlib.sha256


class Record(NamedTuple):
    """An entry ready to append: its exact leaf data, leaf hash and the indexed fields.

    A named tuple, not a dataclass: bulk appends build hundreds of thousands a second.
    """

    data: bytes
    hash: bytes
    type: str
    author: str
    key: str
    issued_at: str

    @classmethod
    def of(cls, entry: Entry) -> Record:
        data = entry.leaf_data()
        return cls.from_data(data, entry.type, entry.author, entry.key, entry.issued_at)

    @classmethod
    def from_data(cls, data: bytes, type: str, author: str, key: str, issued_at: str) -> Record:
        return cls(data, _sha256(b"\x00" + data).digest(), type, author, key, issued_at)

    def entry(self) -> Entry:
        return entry_mod.loads(self.data)


Group = Sequence[Entry | Record]
GroupResult = range | BaseException


Meta = tuple[str, str, str, str]
"""The indexed fields of an entry: ``(type, author, key, issued_at)``."""


class Leaves(NamedTuple):
    """Entries in columns: leaf data, leaf hashes, and one :data:`Meta` per entry or one
    shared by all. Bulk paths use it instead of a :class:`Record` per entry: no tuple per
    entry to build, pickle or collect."""

    datas: Sequence[bytes]
    hashes: Sequence[bytes]
    metas: Sequence[Meta] | Meta

    @classmethod
    def of(cls, datas: Sequence[bytes], metas: Sequence[Meta] | Meta) -> Leaves:
        if not is_meta(metas) and len(metas) != len(datas):
            raise ValueError(f"got {len(datas)} leaves but {len(metas)} metadata tuples")
        return cls(datas, [_sha256(b"\x00" + d).digest() for d in datas], metas)


def is_meta(metas: Sequence[Meta] | Meta) -> bool:
    return len(metas) == 4 and all(isinstance(m, str) for m in metas)


def as_records(group: Group) -> list[Record]:
    if type(group) is list and all(type(g) is Record for g in group):
        return group
    return [g if isinstance(g, Record) else Record.of(g) for g in group]
