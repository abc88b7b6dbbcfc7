"""The workbench's session cookie and CSRF tokens: pure functions of a server secret.

A session is a signed, expiring value (HMAC-SHA256 under the workbench secret, see
:func:`foodtrace.workbench.access.secret`): the party, its role, the id of the API token it
logged in with (never the token itself) and a random nonce. The CSRF token of a form is an
HMAC of that nonce (a synchronizer token bound to the session, so no second cookie is
needed); a visitor who is not logged in (the login form, the merchant's confirmation) gets
an anonymous nonce cookie signed the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

SESSION_TTL: Final = timedelta(hours=8)
"""A working day in the field; the token's own expiry and revocation end it sooner."""
NONCE_BYTES: Final = 16


@dataclass(frozen=True)
class Session:
    party_id: str
    role: str
    token_id: int
    nonce: str
    expires_at: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, data: bytes) -> str:
    return _b64(hmac.new(secret, purpose.encode() + b"\x00" + data, hashlib.sha256).digest())


def new_nonce() -> str:
    return _b64(secrets.token_bytes(NONCE_BYTES))


def seal(secret: bytes, purpose: str, payload: dict[str, object]) -> str:
    """``payload`` as ``base64url(json).mac``."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(secret, purpose, body.encode())}"


def unseal(secret: bytes, purpose: str, value: str) -> dict[str, object] | None:
    """The payload of a value :func:`seal` made with this secret and purpose, else None."""
    if len(value) > 1024 or value.count(".") != 1:
        return None
    body, mac = value.split(".")
    if not hmac.compare_digest(mac, _mac(secret, purpose, body.encode())):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def open_session(
    secret: bytes, party_id: str, role: str, token_id: int, now: datetime
) -> tuple[Session, str]:
    """A new session and its cookie value."""
    s = Session(party_id, role, token_id, new_nonce(), int((now + SESSION_TTL).timestamp()))
    payload: dict[str, object] = {
        "p": s.party_id,
        "r": s.role,
        "t": s.token_id,
        "n": s.nonce,
        "e": s.expires_at,
    }
    return s, seal(secret, "session", payload)


def read_session(secret: bytes, value: str | None, now: datetime) -> Session | None:
    """The session a cookie value carries, or None if it is absent, forged or expired."""
    payload = unseal(secret, "session", value) if value else None
    if payload is None:
        return None
    p, r, t, n, e = (payload.get(k) for k in "prtne")
    if not (
        isinstance(p, str)
        and isinstance(r, str)
        and isinstance(t, int)
        and isinstance(n, str)
        and isinstance(e, int)
    ):
        return None
    if e <= now.timestamp():
        return None
    return Session(p, r, t, n, e)


def anonymous(secret: bytes, value: str | None) -> str | None:
    """The nonce of a signed anonymous cookie value, or None."""
    payload = unseal(secret, "anon", value) if value else None
    nonce = payload.get("n") if payload else None
    return nonce if isinstance(nonce, str) else None


def new_anonymous(secret: bytes) -> tuple[str, str]:
    """A fresh anonymous nonce and its cookie value."""
    nonce = new_nonce()
    return nonce, seal(secret, "anon", {"n": nonce})


def csrf_token(secret: bytes, nonce: str) -> str:
    return _mac(secret, "csrf", nonce.encode())


def csrf_ok(secret: bytes, nonce: str | None, token: str | None) -> bool:
    """Whether a form's token is the one bound to ``nonce`` (constant time)."""
    if not nonce or not token or len(token) > 100:
        return False
    return hmac.compare_digest(token, csrf_token(secret, nonce))
