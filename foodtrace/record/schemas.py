"""What the API says about records: the proof that comes with every read."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

ENTRY_EXAMPLE: dict[str, Any] = {
    "v": 1,
    "type": "product.register",
    "author": "91310115MA1K4FXX2B",
    "key": "3f2a9c1d5e7b8a60",
    "issued_at": "2026-03-01T08:00:00.000000Z",
    "body": {"gtin": "06901234567892", "name": "崇明大米 5kg"},
    "sig": "base64 Ed25519 signature of the JCS of the entry without sig",
}


class SignedEntryRequest(BaseModel):
    """A write signed by the client: the whole entry envelope, ``sig`` included."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"entry": ENTRY_EXAMPLE}]}
    )

    entry: dict[str, Any] = Field(description="The signed entry (see DESIGN.md, trust model)")


class ProofBundleOut(BaseModel):
    index: int
    proof: list[str] = Field(description="RFC 9162 audit path, base64 hashes")
    checkpoint: str = Field(description="C2SP signed-note checkpoint the path leads to")


class RecordProof(BaseModel):
    """An entry with what is needed to verify it is in the log."""

    index: int = Field(description="The entry's index in the log")
    entry: dict[str, Any] = Field(description="The signed entry exactly as logged")
    leaf_hash: str = Field(description="Hex SHA-256 of 0x00 || JCS(entry)")
    proof: ProofBundleOut
    bundle: str = Field(description="The same proof as a C2SP tlog-proof bundle (text)")
    verifier_key: str = Field(description="The log's checkpoint verifier key")


class Recorded(BaseModel, Generic[T]):
    """A record, the index of the entry it was projected from, and that entry's proof."""

    record: T
    entry_index: int
    proof: RecordProof
