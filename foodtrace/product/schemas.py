"""Bodies of ``product.register`` and ``lot.create`` entries, and what reads return."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from foodtrace.trace import identifiers

Gtin = Annotated[
    str,
    AfterValidator(lambda v: identifiers.gtin(v)),
    Field(description="GTIN-8/12/13/14 with a valid check digit; stored as GTIN-14"),
]
LOT_CODE = r"^[A-Za-z0-9!\"%&'()*+,\-./:;<=>?_]{1,20}$"  # GS1 AI (10): up to 20 of CSET 82


class ProductBody(BaseModel):
    """``product.register``: the author is the product's producer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "gtin": "06901234567892",
                    "name": "崇明大米 5kg",
                    "specification": "5kg/袋",
                    "category": "大米",
                }
            ]
        },
    )

    gtin: Gtin
    name: str = Field(min_length=1, max_length=200)
    specification: str | None = Field(None, max_length=200)
    category: str | None = Field(None, max_length=100)


class LotBody(BaseModel):
    """``lot.create``: a lot of one of the author's products."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "gtin": "06901234567892",
                    "lot_code": "20260301A",
                    "production_date": "2026-03-01",
                    "quantity": 1200,
                    "unit": "袋",
                }
            ]
        },
    )

    gtin: Gtin
    lot_code: str = Field(pattern=LOT_CODE, description="GS1 AI (10) batch/lot number")
    production_date: date
    quantity: float = Field(gt=0)
    unit: str = Field(min_length=1, max_length=20)


class ProductOut(BaseModel):
    gtin: str
    name: str
    producer: str
    specification: str | None
    category: str | None
    entry_index: int


class LotOut(BaseModel):
    gtin: str
    lot_code: str
    producer: str
    production_date: date
    quantity: float
    unit: str
    entry_index: int
