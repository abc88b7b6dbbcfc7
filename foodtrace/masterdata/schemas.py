"""Bodies of ``masterdata.*`` entries and what reads return.

An entry body is ``{"id": canonical Digital Link, "attributes": {…}, "other": {…},
"children": […]}``: the same whether it came from a document's header or from the API, so
the page shows, and the badge checks, ``/body/attributes/name`` either way.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from foodtrace.trace.epcis import masterdata

Scalar = str | int | float | bool


def _id_of(kind: str) -> Any:
    def check(value: str) -> str:
        found = masterdata.canonical_id(kind, value)
        if found is None or found != value:
            raise ValueError(
                f"expected the canonical Digital Link of a {kind} "
                f"(https://id.gs1.org{masterdata.KEY_PATH[kind]}…), got {value!r}"
                + (f"; write {found}" if found else "")
            )
        return value

    return AfterValidator(check)


_STRICT = ConfigDict(extra="forbid")


class Address(BaseModel):
    """CBV master data attributes of a place (``urn:epcglobal:cbv:mda#…``), CBV's names."""

    model_config = _STRICT

    name: str | None = Field(None, min_length=1, max_length=200)
    streetAddressOne: str | None = Field(None, max_length=300)
    streetAddressTwo: str | None = Field(None, max_length=300)
    streetAddressThree: str | None = Field(None, max_length=300)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=100)
    postalCode: str | None = Field(None, max_length=20)
    countryCode: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class ProductAttributes(BaseModel):
    """What a product is: its name, category and 规格 (net content description)."""

    model_config = _STRICT

    name: str | None = Field(None, min_length=1, max_length=200)
    category: str | None = Field(None, max_length=100)
    specification: str | None = Field(None, max_length=200, description="规格")


_OTHER: Any = Field(default_factory=dict, description="Attributes unnamed here, by their URI")
_CHILDREN: Any = Field(default_factory=list, description="Ids of the element's children")

_LOCATION_EXAMPLE: dict[str, Any] = {
    "id": "https://id.gs1.org/414/6901234000017",
    "attributes": {
        "name": "崇明稻香合作社 1 号仓",
        "streetAddressOne": "城桥镇 88 号",
        "city": "上海市崇明区",
        "countryCode": "CN",
        "latitude": 31.62,
        "longitude": 121.4,
    },
}


class LocationBody(BaseModel):
    """``masterdata.location``: a site (GLN) or a place within one (SGLN)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_LOCATION_EXAMPLE]})

    id: Annotated[str, _id_of(masterdata.LOCATION)]
    attributes: Address
    other: dict[str, Scalar] = _OTHER
    children: list[str] = _CHILDREN


class ProductBody(BaseModel):
    """``masterdata.product``: a trade item (GTIN)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "https://id.gs1.org/01/06901234567892",
                    "attributes": {
                        "name": "崇明大米",
                        "category": "大米",
                        "specification": "5kg/袋",
                    },
                }
            ]
        },
    )

    id: Annotated[str, _id_of(masterdata.PRODUCT)]
    attributes: ProductAttributes
    other: dict[str, Scalar] = _OTHER
    children: list[str] = _CHILDREN


class PartyBody(BaseModel):
    """``masterdata.party``: a party by its party GLN (AI 417)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "https://id.gs1.org/417/6901234000000",
                    "attributes": {"name": "上海崇明稻香农业合作社", "city": "上海市崇明区"},
                }
            ]
        },
    )

    id: Annotated[str, _id_of(masterdata.PARTY)]
    attributes: Address
    other: dict[str, Scalar] = _OTHER
    children: list[str] = _CHILDREN


BODIES: dict[str, type[BaseModel]] = {
    masterdata.LOCATION: LocationBody,
    masterdata.PRODUCT: ProductBody,
    masterdata.PARTY: PartyBody,
}


class ElementOut(BaseModel):
    """A master data element as stored: its kind, id, attributes and who described it."""

    kind: str
    id: str
    attributes: dict[str, Any]
    other: dict[str, Any]
    children: list[str]
    author: str
    entry_index: int
