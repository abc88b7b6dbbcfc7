"""What the token routes accept and answer. Secrets appear only in the ``*Issued`` answers,
which are given once."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from foodtrace.auth.models import ApiToken
from foodtrace.auth.service import aware
from foodtrace.party.schemas import PartyId, PublicKey

TokenName = Field(min_length=1, max_length=200, examples=["收银台手机"])


class TokenState(StrEnum):
    """Where a token is in its lifecycle (:func:`token_state`)."""

    PENDING = "pending"  # written, its token.event not in the log yet: authenticates nothing
    ACTIVE = "active"
    REVOKED = "revoked"  # revoked, rotated away, or withdrawn because its entry was refused
    EXPIRED = "expired"


def token_state(row: ApiToken, now: datetime) -> TokenState:
    """Revoked (or withdrawn) first, then pending, then expired: the first reason a token
    does not authenticate, or active."""
    if row.revoked_at is not None:
        return TokenState.REVOKED
    if row.activated_at is None:
        return TokenState.PENDING
    if aware(row.expires_at) <= now:
        return TokenState.EXPIRED
    return TokenState.ACTIVE


class TokenOut(BaseModel):
    """A token's metadata: never the token or its hash."""

    id: int
    party_id: str
    role: str
    name: str
    prefix: str = Field(description="The token's first characters, to tell tokens apart")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = Field(description="Refreshed at most once a minute")
    revoked_at: datetime | None
    revoked: bool
    activated_at: datetime | None = Field(
        description="When its token.event was integrated into the log (null while pending)"
    )
    state: TokenState = Field(
        description="pending: its token.event is not in the log yet (authenticates nothing); "
        "active; revoked: revoked, rotated away or withdrawn (its entry was refused); "
        "expired: past expires_at. Revoked wins over expired, pending over expired."
    )


def token_out(row: ApiToken, now: datetime | None = None) -> TokenOut:
    """``row``'s metadata and its state at ``now`` (default: the current time)."""
    return TokenOut(
        id=row.id,
        party_id=row.party_id,
        role=row.role,
        name=row.name,
        prefix=row.prefix,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at),
        last_used_at=aware(row.last_used_at) if row.last_used_at else None,
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
        revoked=row.revoked_at is not None,
        activated_at=aware(row.activated_at) if row.activated_at else None,
        state=token_state(row, now or datetime.now(UTC)),
    )


class TokenIssued(BaseModel):
    """A new token, shown this once, and its metadata."""

    token: str = Field(description="The bearer token: store it now, it is not shown again")
    metadata: TokenOut
    key_id: str | None = Field(None, description="The key registered with the enrolment")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = TokenName
    expires_in_days: int | None = Field(
        None, ge=1, le=366, description="Default: the server's token lifetime (90 days)"
    )


class RotateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200, description="Default: kept")


class EnrolRequest(BaseModel):
    """A party trading the one-time code from its registration for its own token."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"party_id": "91310115MA1K4FXX2B", "code": "fte_…", "name": "总部电脑"}]
        },
    )

    party_id: PartyId
    code: str = Field(min_length=1, max_length=100)
    name: str = Field("enrolment", min_length=1, max_length=200)
    public_key: PublicKey | None = Field(
        None, description="An Ed25519 public key (base64) the party generated itself"
    )


class EnrolmentCodeOut(BaseModel):
    """A one-time enrolment code, shown this once."""

    party_id: str
    enrolment_code: str = Field(description="Give it to the party: it is not shown again")
    expires_at: datetime
