"""FastAPI dependencies: the calling principal from a Bearer token, and role checks.

Public reads simply do not depend on these. Failures are problem+json: 401 with
``WWW-Authenticate: Bearer`` (RFC 6750) for a missing or invalid token, 403 naming the roles
a route needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from foodtrace.api.problems import Problem, problem_type
from foodtrace.auth.models import Principal, Role
from foodtrace.auth.service import authenticate_request

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="PartyToken",
    description=(
        "A party's API token (`ft_…`), shown once: from `POST /api/v1/enrolments` with the "
        "party's enrolment code, or issued by the party or a regulator."
    ),
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _unauthorized(detail: str, challenge: str) -> Problem:
    return Problem(
        401,
        "Unauthorized",
        detail,
        problem_type("unauthorized"),
        headers={"WWW-Authenticate": challenge},
    )


def optional_principal(request: Request, credentials: Credentials) -> Principal | None:
    """The principal if a token was sent (401 if it is invalid, expired or revoked), None if
    none was sent. Looked up in a session of its own (see :func:`authenticate_request`)."""
    if credentials is None:
        return None
    principal = authenticate_request(request.app.state.sessions, credentials.credentials)
    if principal is None:
        raise _unauthorized(
            "The API token is unknown, expired or revoked.",
            'Bearer error="invalid_token", error_description="unknown, expired or revoked token"',
        )
    return principal


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    """The principal of a request that must carry a valid ``Authorization: Bearer`` token."""
    if principal is None:
        raise _unauthorized("This needs an API token: Authorization: Bearer ft_…", "Bearer")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role | str) -> Callable[[Principal], Principal]:
    """A dependency admitting only principals with one of ``roles`` (403 otherwise).

    Use as ``Depends(require_roles(Role.REGULATOR, Role.INSPECTOR))``; unknown role names
    fail at import time, not per request.
    """
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = tuple(Role(r) for r in roles)
    names = ", ".join(r.value for r in allowed)

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise Problem(
                403,
                "Forbidden",
                f"This needs one of the roles: {names}; the token has the role "
                f"{principal.role.value}.",
                problem_type("forbidden"),
            )
        return principal

    return check
