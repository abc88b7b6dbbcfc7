"""Health certificate entries hold commitments only; the API takes the personal data
separately and never returns it unmasked."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Commitment = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="salted SHA-256, hex")]


class _Validity(BaseModel):
    valid_from: date
    valid_until: date

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.valid_until < self.valid_from:
            raise ValueError(f"valid_until: expected a day on or after {self.valid_from}")
        return self


class CertificateBody(_Validity):
    """``health.certificate.issue``: an employer records a staff member's certificate."""

    model_config = ConfigDict(extra="forbid")

    certificate_number: str = Field(min_length=1, max_length=64)
    holder_commitment: Commitment
    id_commitment: Commitment | None = None
    issuer: str = Field(min_length=1, max_length=200)


CERTIFICATE_EXAMPLE: dict[str, Any] = {
    "certificate_number": "沪崇健2026-001234",
    "holder_name": "张小三",
    "holder_id_number": "110105199001011234",
    "issuer": "上海市崇明区疾病预防控制中心",
    "valid_from": "2026-01-10",
    "valid_until": "2027-01-09",
}


class CertificateIn(_Validity):
    """A plain request: the server commits to the personal data and signs the entry."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CERTIFICATE_EXAMPLE]})

    certificate_number: str = Field(min_length=1, max_length=64)
    holder_name: str = Field(min_length=1, max_length=100)
    holder_id_number: str | None = Field(None, min_length=6, max_length=32)
    issuer: str = Field(min_length=1, max_length=200)


class PersonalIn(BaseModel):
    """With a client-signed entry: the values and salts (base64) behind its commitments."""

    model_config = ConfigDict(extra="forbid")

    holder_name: str = Field(min_length=1, max_length=100)
    holder_salt: str
    holder_id_number: str | None = None
    id_salt: str | None = None


class CertificateOut(BaseModel):
    certificate_number: str
    employer: str
    holder: str = Field(description="Masked name (张**: each part's first character), or 已删除")
    holder_id_number: str | None = Field(description="Masked ID number, if one was given")
    holder_commitment: str
    issuer: str
    valid_from: date
    valid_until: date
    status: str = Field(description="valid, expiring, expired or not_yet_valid")
    personal_data_erased: bool
    entry_index: int
