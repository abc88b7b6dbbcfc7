"""What the complaint API takes and returns. The public sees a tracking number and a status;
only inspectors and regulators see the text, and nobody sees the contact unmasked."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from foodtrace.trace.codes import MERCHANT_ID_MAX

DESCRIPTION_MAX = 2000
CONTACT_MAX = 100
NOTE_MAX = 2000


class Category(StrEnum):
    """12315-style complaint categories; the API also accepts the Chinese label."""

    HYGIENE = "hygiene"
    QUALITY = "quality"
    EXPIRED = "expired"
    FOREIGN_MATTER = "foreign_matter"
    ILLNESS = "illness"
    LABELLING = "labelling"
    PRICE = "price"
    SERVICE = "service"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.HYGIENE: "卫生问题",
    Category.QUALITY: "质量问题",
    Category.EXPIRED: "过期变质",
    Category.FOREIGN_MATTER: "异物",
    Category.ILLNESS: "食用后身体不适",
    Category.LABELLING: "标签标识",
    Category.PRICE: "价格问题",
    Category.SERVICE: "服务问题",
    Category.OTHER: "其他",
}
_BY_LABEL = {label: c.value for c, label in CATEGORY_LABELS.items()}


def _category(value: Any) -> Any:
    return _BY_LABEL.get(value, value) if isinstance(value, str) else value


class Status(StrEnum):
    RECEIVED = "received"
    RESPONDED = "responded"
    CLOSED = "closed"


STATUS_LABELS = {Status.RECEIVED: "已受理", Status.RESPONDED: "已响应", Status.CLOSED: "已反馈"}


class Stage(StrEnum):
    """What a regulator records: the first response (30 min) or the feedback (24 h)."""

    RESPONSE = "response"
    FEEDBACK = "feedback"


class ComplaintIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "merchant_id": "91110105MA04G7WX3L",
                    "category": "hygiene",
                    "description": "餐具有污渍",
                    "contact": "13800138000",
                }
            ]
        },
    )

    merchant_id: str = Field(min_length=1, max_length=MERCHANT_ID_MAX)
    category: Annotated[Category, BeforeValidator(_category)]
    description: str = Field(min_length=1, max_length=DESCRIPTION_MAX)
    contact: str | None = Field(default=None, max_length=CONTACT_MAX)


class ComplaintCreated(BaseModel):
    tracking_number: str


class ComplaintBody(BaseModel):
    """The ``complaint`` entry's body: no personal data, only salted commitments."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(max_length=24)
    merchant_id: str = Field(max_length=MERCHANT_ID_MAX)
    category: Category
    received_at: datetime
    description_commitment: str = Field(pattern=r"^[0-9a-f]{64}$")
    contact_commitment: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class ComplaintUpdateBody(BaseModel):
    """The ``complaint.update`` entry's body: who answered which stage, and when."""

    model_config = ConfigDict(extra="forbid")

    tracking_number: str = Field(max_length=24)
    stage: Stage
    by: str = Field(max_length=128)
    at: datetime
    note_commitment: str = Field(pattern=r"^[0-9a-f]{64}$")


class ComplaintUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    note: str = Field(min_length=1, max_length=NOTE_MAX)


class ComplaintStatusOut(BaseModel):
    """What anyone holding the tracking number may see."""

    tracking_number: str
    status: Status
    status_label: str
    received_at: datetime


class ComplaintOut(BaseModel):
    """An inspector's or regulator's view, with deadlines and overdue flags."""

    tracking_number: str
    merchant_id: str
    category: Category
    category_label: str
    description: str | None
    contact: str | None = Field(description="masked; null when none was given or erased")
    contact_erased: bool
    status: Status
    received_at: datetime
    response_due: datetime
    feedback_due: datetime
    responded_at: datetime | None
    feedback_at: datetime | None
    response_overdue: bool
    feedback_overdue: bool
    entry_index: int
