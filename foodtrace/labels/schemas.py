"""What the code-issuing API takes and returns."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from foodtrace.labels.service import MAX_SERIALS_PER_REQUEST
from foodtrace.trace.codes import Code


class CodeOut(BaseModel):
    kind: str
    url: str = Field(description="The canonical URL (links, the API)")
    qr_text: str = Field(description="What the QR holds: the URL with scheme and host upper case")
    human_text: str = Field(description="Printed beside the QR: GS1 element string or merchant id")
    name: str

    @classmethod
    def of(cls, code: Code, name: str) -> CodeOut:
        return cls(
            kind=code.kind.value,
            url=code.url,
            qr_text=code.qr_text,
            human_text=code.human_text,
            name=name,
        )


class SerialsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(ge=1, le=MAX_SERIALS_PER_REQUEST)


class SerialsOut(BaseModel):
    gtin: str
    lot_code: str
    codes: list[CodeOut]


class SheetItem(BaseModel):
    """One label: a merchant (``party_id``), a lot (``gtin`` + ``lot``) or an issued serial
    (``gtin`` + ``serial``)."""

    model_config = ConfigDict(extra="forbid")

    party_id: str | None = None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = [
            self.party_id is not None and self.gtin is None,
            self.gtin is not None and (self.lot is None) != (self.serial is None),
        ]
        if sum(kinds) != 1 or (self.party_id is not None and (self.lot or self.serial)):
            raise ValueError("expected either party_id, or gtin with exactly one of lot, serial")
        return self


class SheetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes: list[SheetItem] = Field(min_length=1, max_length=MAX_SERIALS_PER_REQUEST)
    title: str = Field(default="食安码标签", max_length=100)
