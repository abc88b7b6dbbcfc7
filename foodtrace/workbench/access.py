"""Who is using the workbench, and what they may see and write.

The session cookie (:mod:`foodtrace.workbench.session`) names the API token the party
logged in with; every request checks that token is still live, so revoking or expiring it
ends the session too, and that the session was not logged out (its nonce is not among the
ended sessions). Only inspectors and regulators log in. An inspector acts on the
businesses of the grids it is officer, grid worker or station head of; a regulator on all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from foodtrace.auth.models import ApiToken, Principal, Role
from foodtrace.auth.service import aware
from foodtrace.config import Settings
from foodtrace.grid import service as grids
from foodtrace.store.db import begin_write
from foodtrace.store.keyfiles import load_or_create_key
from foodtrace.workbench import session as wbsession
from foodtrace.workbench.models import EndedSession

WORKBENCH_ROLES: Final = frozenset({Role.INSPECTOR, Role.REGULATOR})
SESSION_COOKIE: Final = "ft_wb"
ANON_COOKIE: Final = "ft_wb_anon"


@cache
def _secret_from(path: Path) -> bytes:
    key = load_or_create_key(path)
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return hashlib.sha256(b"foodtrace workbench sessions\x00" + raw).digest()


def secret(settings: Settings) -> bytes:
    """The server secret sessions and CSRF tokens are keyed by (from its key file)."""
    return _secret_from(settings.resolved_workbench_key_file)


_SESSION_CHECK: Final = select(
    ApiToken.party_id,
    ApiToken.role,
    ApiToken.activated_at,
    ApiToken.revoked_at,
    ApiToken.expires_at,
    select(EndedSession.nonce).where(EndedSession.nonce == bindparam("nonce")).exists(),
).where(ApiToken.id == bindparam("token_id"))
"""The session's token (live only once activated by its logged entry) and whether the
session was logged out: one statement per request."""


def principal_of(
    sessions: Callable[[], Session], s: wbsession.Session | None, now: datetime
) -> Principal | None:
    """The principal of a valid session whose token is still live, else None."""
    if s is None:
        return None
    with sessions() as db:
        row = (
            db.connection()
            .execute(_SESSION_CHECK, {"token_id": s.token_id, "nonce": s.nonce})
            .first()
        )
    if row is None:
        return None
    party_id, role, activated_at, revoked_at, expires_at, ended = row
    if activated_at is None or revoked_at is not None or aware(expires_at) <= now:
        return None
    if party_id != s.party_id or role != s.role:
        return None
    if ended:  # logged out: a copied cookie is dead
        return None
    found = Role(s.role)
    return Principal(s.party_id, found, s.token_id) if found in WORKBENCH_ROLES else None


def end_session(sessions: Callable[[], Session], s: wbsession.Session, now: datetime) -> None:
    """Log out: record the session's nonce as ended (pruning those past their expiry), so
    the cookie, or any copy of it, no longer opens a session."""
    with sessions() as db, db.begin():
        begin_write(db)
        db.execute(delete(EndedSession).where(EndedSession.expires_at <= now))
        if db.get(EndedSession, s.nonce) is None:
            expires = datetime.fromtimestamp(s.expires_at, UTC)
            db.add(EndedSession(nonce=s.nonce, expires_at=expires, ended_at=now))


def my_grids(db: Session, principal: Principal) -> list[grids.GridRef]:
    """The grids this principal works in (every grid for a regulator)."""
    if principal.role is Role.REGULATOR:
        return grids.grid_refs(db)
    return grids.grid_refs(db, person=principal.party_id)


class OutOfScope(PermissionError):
    """The business is not in a grid the inspector works in."""


def check_business(db: Session, principal: Principal, party_id: str) -> None:
    """Raise :class:`OutOfScope` unless the principal may act on ``party_id``."""
    if principal.role is Role.REGULATOR:
        return
    grid = grids.grid_of(db, party_id)
    mine = {g.grid_id for g in my_grids(db, principal)}
    if grid is None or grid.grid_id not in mine:
        raise OutOfScope(f"{party_id} is not in a grid you work in")
