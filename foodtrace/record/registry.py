"""Entry types: who may write each, what its body must look like, and how it is projected.

Domains register their types at import time; the log runs :func:`project`, one
dispatching projector, for every entry of a group, so a single append can mix types.
A projector that finds the entry inconsistent with what is already stored (an unknown lot,
a duplicate report number) raises :class:`ProjectionError`; the whole group is then refused
and nothing of it is stored. A type whose body is about a lot, an item or a logistic unit
declares it (``about``): :func:`project` checks custody of those subjects for every such
type, in one place, before the type's projector runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from foodtrace.auth.models import Role
from foodtrace.trace.custody import Subject
from foodtrace.trace.entry import Entry

Projector = Callable[[Session, int, Entry], None]
About = Callable[[Mapping[str, Any]], list[Subject]]
"""The lots, items or logistic units an entry body is about, for the custody check."""


@dataclass(frozen=True)
class EntryType:
    """A registered entry type."""

    name: str
    roles: frozenset[Role]
    project: Projector
    body: type[BaseModel] | None = None
    about: About | None = None


class UnknownEntryType(LookupError):
    pass


class ProjectionError(Exception):
    """The entry contradicts stored state. ``problems`` are ``(field, detail)`` with fields
    relative to the entry body (dotted, ``""`` for the body itself); ``status`` is 409 for a
    conflict with existing records, 422 for a reference to something that does not exist."""

    def __init__(self, status: int, problems: Sequence[tuple[str, str]]) -> None:
        self.status = status
        self.problems = list(problems)
        super().__init__("; ".join(f"{f or 'body'}: {d}" for f, d in self.problems))


def conflict(field: str, detail: str) -> ProjectionError:
    return ProjectionError(409, [(field, detail)])


def missing(field: str, detail: str) -> ProjectionError:
    return ProjectionError(422, [(field, detail)])


_TYPES: dict[str, EntryType] = {}


def register_type(
    name: str,
    *,
    roles: frozenset[Role],
    project: Projector,
    body: type[BaseModel] | None = None,
    about: About | None = None,
) -> None:
    """Make ``name`` writable by ``roles``; ``about`` names the objects its bodies are
    about, whose custody :func:`project` checks. Registering the same name twice with another
    projector is a programming error (two domains claiming one type)."""
    if not roles:
        raise ValueError(f"entry type {name!r}: at least one role must be allowed to write it")
    existing = _TYPES.get(name)
    if existing is not None and _qualname(existing.project) != _qualname(project):
        raise ValueError(f"entry type {name!r} is already registered by {existing.project!r}")
    _TYPES[name] = EntryType(name, frozenset(roles), project, body, about)


def _qualname(fn: Callable[..., object]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def load_types() -> None:
    """Import every domain whose import registers entry types, so that the write path knows
    every type even when no router was built (CLI, tests, workers). Imported here rather
    than at the top because those modules import this one."""
    import foodtrace.alert.service
    import foodtrace.auth.events
    import foodtrace.complaint.owners
    import foodtrace.complaint.service
    import foodtrace.draw.service
    import foodtrace.epcis.service
    import foodtrace.grading.hook
    import foodtrace.grading.service
    import foodtrace.grid.service
    import foodtrace.health.erasure
    import foodtrace.health.service
    import foodtrace.inspection.service
    import foodtrace.masterdata.service
    import foodtrace.party.service
    import foodtrace.platformkey.service
    import foodtrace.prefix.service
    import foodtrace.product.service
    import foodtrace.recall.service
    import foodtrace.report.service
    import foodtrace.scan.service  # noqa: F401


def spec(name: str) -> EntryType:
    """The registered type ``name``; :class:`UnknownEntryType` names the known ones."""
    try:
        return _TYPES[name]
    except KeyError:
        raise UnknownEntryType(
            f"unknown entry type {name!r}, expected one of {sorted(_TYPES)}"
        ) from None


def known_types() -> list[str]:
    return sorted(_TYPES)


def project(session: Session, index: int, entry: Entry) -> None:
    """The dispatching projector handed to :meth:`MerkleLog.append`: the custody check of
    the entry's subjects, then its type's projector."""
    t = spec(entry.type)
    subjects = t.about(entry.body) if t.about is not None else []
    if subjects:
        # Imported here: the provenance projection imports this module.
        from foodtrace.provenance.guard import check_record

        check_record(session, entry, subjects)
    t.project(session, index, entry)
    # The stored pages showing what this entry names are stale from its commit on.
    from foodtrace.resolver.pageviews import entry_subjects, mark_stale

    about = [s.canonical for s in subjects]
    mark_stale(session, entry_subjects(entry.body, about))
