"""What a scan reports: each step passed, failed with the reason, or skipped because an
earlier one failed; per record and per code."""

from __future__ import annotations

from dataclasses import dataclass, field

from foodtrace.trace.entry import Entry

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    status: str
    detail: str


@dataclass
class RecordCheck:
    index: int | None
    type: str = "?"
    author: str = "?"
    steps: list[Step] = field(default_factory=list)
    entry: Entry | None = None

    @property
    def ok(self) -> bool:
        return all(s.status == OK for s in self.steps)

    def failed(self) -> list[Step]:
        return [s for s in self.steps if s.status == FAILED]


@dataclass
class CodeCheck:
    """The verdict on one code (or on an image that yielded none: ``decode_error``)."""

    source: str
    text: str = ""
    kind: str = ""
    subject: str = ""
    via: str = ""
    steps: list[Step] = field(default_factory=list)
    records: list[RecordCheck] = field(default_factory=list)
    decode_error: str = ""

    @property
    def ok(self) -> bool:
        return (
            not self.decode_error
            and all(s.status == OK for s in self.steps)
            and all(r.ok for r in self.records)
        )

    def failures(self) -> list[str]:
        """``"step: reason"`` for each failed step, records named by index."""
        out = [f"{s.name}: {s.detail}" for s in self.steps if s.status == FAILED]
        for r in self.records:
            out += [f"record {r.index} {s.name}: {s.detail}" for s in r.failed()]
        return out
