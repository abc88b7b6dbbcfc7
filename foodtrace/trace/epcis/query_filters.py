"""The filters a SimpleEventQuery is made of: plain data, one class per way of matching.

:mod:`.query_params` builds them from parameters; the store turns each into one SQL
condition. Values in a tuple are alternatives (any may match).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Op = Literal["EQ", "GT", "GE", "LT", "LE"]


@dataclass(frozen=True)
class EpcPattern:
    """``exact``: one canonical id; ``prefix``: ids under a canonical Digital Link (a GS1
    ``idpat`` with a wildcard serial or lot); ``like``: a SQL LIKE over canonical ids."""

    kind: Literal["exact", "prefix", "like"]
    text: str


@dataclass(frozen=True)
class ColumnIn:
    column: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class TimeBound:
    column: str
    op: Op
    at: datetime


@dataclass(frozen=True)
class EpcMatch:
    roles: tuple[str, ...]
    classes: bool
    patterns: tuple[EpcPattern, ...]


@dataclass(frozen=True)
class QuantityBound:
    op: Op
    value: float


@dataclass(frozen=True)
class PersistentIn:
    op: Literal["set", "unset"]
    values: tuple[str, ...]


@dataclass(frozen=True)
class ErrorDeclared:
    present: bool


@dataclass(frozen=True)
class BizTransactionIn:
    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class PartyIn:
    direction: Literal["source", "destination"]
    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SensorIn:
    """A sensor report text attribute (``attribute`` is the column) among alternatives."""

    attribute: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class SensorBound:
    """A sensor report number (or time) compared to a bound, in ``uom`` when given."""

    attribute: str
    op: Op
    value: float | datetime
    uom: str | None = None


@dataclass(frozen=True)
class SensorBoolean:
    value: bool


@dataclass(frozen=True)
class FieldMatch:
    """An extension field at ``scope`` (nested when ``inner``): equal to one of ``values``
    (EQ) or compared to ``values[0]`` (number or time); ``by_key`` matches the name as the
    author wrote it, when the query's prefix is not declared."""

    scope: str
    inner: bool
    name: str
    by_key: bool
    op: Op
    values: tuple[str, ...]
    bound: float | datetime | None = None


@dataclass(frozen=True)
class FieldExists:
    scope: str
    inner: bool
    name: str
    by_key: bool


Filter = (
    ColumnIn
    | TimeBound
    | EpcMatch
    | QuantityBound
    | PersistentIn
    | ErrorDeclared
    | BizTransactionIn
    | PartyIn
    | SensorIn
    | SensorBound
    | SensorBoolean
    | FieldMatch
    | FieldExists
)


@dataclass(frozen=True)
class ParsedQuery:
    filters: tuple[Filter, ...] = ()
    order_by: str = "event_time"
    descending: bool = False
    event_count_limit: int | None = None
    max_event_count: int | None = None
    fingerprint: str = field(default="", compare=False)
