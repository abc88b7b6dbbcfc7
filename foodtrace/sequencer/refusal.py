"""How the sequencer tells a worker that a queued group was refused, as data on its row.

The same exceptions come out of the single-process path, so :func:`foodtrace.record.service.
submit` turns both into the same 403/409/422 problem.
"""

from __future__ import annotations

import json
from collections.abc import Sequence


class EntryRefused(Exception):
    """Entry ``position`` of a group contradicts stored state (a projection's refusal)."""

    def __init__(self, position: int, status: int, problems: Sequence[tuple[str, str]]) -> None:
        self.position = position
        self.status = status
        self.problems = [(str(f), str(d)) for f, d in problems]
        super().__init__(f"entry {position}: " + "; ".join(d for _, d in self.problems))

    def to_json(self) -> str:
        return json.dumps(
            {"position": self.position, "status": self.status, "problems": self.problems}
        )


class StoredConflict(Exception):
    """A unique constraint refused the group: something equal was stored at the same time."""


class GroupFailed(Exception):
    """The sequencer tried the group and its transaction failed for a reason of its own (a
    full disk, a lost connection, a bug): it was rolled back, so nothing of it is stored and
    the same entries may be sent again. The message is for the operator's log only: it may
    quote the database's error."""


class SequencerUnavailable(Exception):
    """No sequencer integrated the group in time (none elected, or the database is down).
    The group may still be integrated later: the client cannot know, so it must retry with
    the same entry (duplicates are refused by the projections)."""


def refusal_json(exc: BaseException) -> str:
    """What is stored on a refused row."""
    if isinstance(exc, EntryRefused):
        return exc.to_json()
    if isinstance(exc, StoredConflict) or type(exc).__name__ == "IntegrityError":
        return json.dumps({"conflict": True})
    return json.dumps({"error": f"{type(exc).__name__}: {exc}"})


def refusal_of(text: str) -> Exception:
    """The exception a worker raises for a refused row."""
    data = json.loads(text)
    if "position" in data:
        return EntryRefused(data["position"], data["status"], data["problems"])
    if data.get("conflict"):
        return StoredConflict("conflicts with a record stored at the same time")
    return GroupFailed(f"the sequencer failed the group: {data.get('error')}")
