"""Bodies of ``party.*`` and ``licence.*`` entries, and what reads return."""

from __future__ import annotations

import base64
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from foodtrace.party.status import LicenceStatus
from foodtrace.trace import identifiers

PARTY_ID = r"^[A-Za-z0-9_.:-]{1,128}$"


class PartyKind(StrEnum):
    PRODUCER = "producer"
    PROCESSOR = "processor"
    LOGISTICS = "logistics"
    RETAILER = "retailer"
    RESTAURANT = "restaurant"
    LAB = "lab"
    INSPECTOR = "inspector"
    REGULATOR = "regulator"


def _public_key(value: str) -> str:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise ValueError("expected base64 of a 32-byte Ed25519 public key") from None
    if len(raw) != 32:
        raise ValueError(f"expected base64 of a 32-byte Ed25519 public key, got {len(raw)} bytes")
    return value


def _uscc(value: str) -> str:
    return identifiers.credit_code(value)


def _gln(value: str) -> str:
    return identifiers.gln(value)


CreditCode = Annotated[str, AfterValidator(_uscc)]
Gln = Annotated[str, AfterValidator(_gln)]
PublicKey = Annotated[str, AfterValidator(_public_key)]
PartyId = Annotated[str, Field(pattern=PARTY_ID, examples=["91310115MA1K4FXX2B"])]

_STRICT = ConfigDict(extra="forbid")
SHA256 = r"^[0-9a-f]{64}$"


class Position(BaseModel):
    """Where a business was found (WGS 84 degrees, as a phone reports them): not personal
    data, but the public merchant page shows the address, not this."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    lat: float = Field(ge=-90, le=90, description="latitude, degrees north")
    lng: float = Field(ge=-180, le=180, description="longitude, degrees east")


class PartyBody(BaseModel):
    """``party.register``: a regulator registers a party and its first public keys."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "party_id": "91310115MA1K4FXX2B",
                    "name": "上海崇明稻香农业合作社",
                    "kind": "producer",
                    "credit_code": "91310115MA1K4FXX2B",
                    "gln": "6901234000004",
                    "region": "上海市崇明区",
                    "grid": "城桥镇-03",
                    "public_keys": ["MCowBQYDK2VwAyEA…base64 of 32 bytes"],
                }
            ]
        },
    )

    party_id: PartyId
    name: str = Field(min_length=1, max_length=200)
    kind: PartyKind
    credit_code: CreditCode = Field(description="统一社会信用代码 (GB 32100), 18 characters")
    gln: Gln | None = None
    region: str | None = Field(None, max_length=100)
    grid: str | None = Field(None, max_length=100, description="网格: the inspection grid cell")
    address: str | None = Field(None, max_length=300)
    position: Position | None = Field(None, description="where the business was found")
    shopfront_photo: str | None = Field(
        None, pattern=SHA256, description="SHA-256 of the shopfront photo (JPEG or PNG)"
    )
    public_keys: list[PublicKey] = Field(default_factory=list, max_length=8)


class KeyBody(BaseModel):
    """``party.key.register``: by a regulator, or by the party itself (rotation)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"party_id": "91310115MA1K4FXX2B", "public_key": "…"}]},
    )

    party_id: PartyId
    public_key: PublicKey
    valid_until: datetime | None = Field(None, description="The key may not sign after this")


class KeyRevokeBody(BaseModel):
    """``party.key.revoke``: by a regulator, or by the party itself."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"party_id": "91310115MA1K4FXX2B", "key_id": "3f2a9c1d5e7b8a60", "reason": "丢失"}
            ]
        },
    )

    party_id: PartyId
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    reason: str = Field("", max_length=500)


class LicenceKind(StrEnum):
    BUSINESS = "business"  # 营业执照: the number is the holder's USCC
    FOOD_BUSINESS = "food_business"  # 食品经营许可证: JY + 14 digits
    FOOD_PRODUCTION = "food_production"  # 食品生产许可证: SC + 14 digits


class LicenceBody(BaseModel):
    """``licence.issue``: a regulator records a licence of a party."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "number": "JY23101150012345",
                    "kind": "food_business",
                    "holder": "91310115MA1K4FXX2B",
                    "scope": "热食类食品制售",
                    "issuer": "上海市崇明区市场监督管理局",
                    "valid_from": "2025-01-01",
                    "valid_until": "2030-01-01",
                }
            ]
        },
    )

    number: str = Field(min_length=1, max_length=18)
    kind: LicenceKind
    holder: PartyId
    scope: str = Field(min_length=1, max_length=2000)
    issuer: str = Field(min_length=1, max_length=200)
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _check(self) -> Self:
        check = {
            LicenceKind.BUSINESS: identifiers.credit_code,
            LicenceKind.FOOD_BUSINESS: identifiers.business_licence,
            LicenceKind.FOOD_PRODUCTION: identifiers.production_licence,
        }[self.kind]
        self.number = check(self.number, "number")
        if self.valid_until < self.valid_from:
            raise ValueError(
                f"valid_until: expected a day on or after valid_from {self.valid_from}"
            )
        return self


class LicenceRevokeBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"number": "JY23101150012345", "reason": "吊销"}]},
    )

    number: str = Field(min_length=1, max_length=18)
    reason: str = Field(min_length=1, max_length=2000)


class KeyOut(BaseModel):
    key_id: str
    public_key: str
    entry_index: int
    revoked_entry_index: int | None


class LicenceOut(BaseModel):
    number: str
    kind: LicenceKind
    holder: str
    scope: str
    issuer: str
    valid_from: date
    valid_until: date
    revoked_on: date | None
    revoke_reason: str | None
    status: LicenceStatus
    entry_index: int


class PartyOut(BaseModel):
    party_id: str
    name: str
    kind: PartyKind
    credit_code: str
    gln: str | None
    region: str | None
    grid: str | None
    address: str | None
    keys: list[KeyOut]
    entry_index: int
    position: Position | None = Field(
        None, description="where it was registered on the street (扫街纳管), as recorded"
    )
    shopfront_photo: str | None = Field(
        None, description="SHA-256 of its shopfront photo (GET /api/v1/blobs/{sha256})"
    )


class PartyCreated(BaseModel):
    """The registered party, and the one-time code it trades for its own API token at
    ``POST /api/v1/enrolments`` (shown this once)."""

    party: PartyOut
    entry_index: int
    enrolment_code: str = Field(description="Give it to the party: it is not shown again")
    enrolment_code_expires_at: datetime
    custodial_key_id: str | None = None


class CustodialKeyOut(BaseModel):
    party_id: str
    key_id: str
    public_key: str
