"""Parties' API tokens and roles: who is calling, and what they may do.

Tokens are bearer secrets shown once and stored only as SHA-256 hashes, with a name and an
expiry; a party gets its first one by trading the one-time enrolment code of its
registration. ``service`` issues, authenticates and revokes them, ``flows`` decides who may
and logs every change (``events``, whose projector makes a new token live only with its
entry; ``rebuild`` replays them), ``deps`` turns them into FastAPI dependencies.
"""

from foodtrace.auth.models import ApiToken, Principal, Role, role_for_party_kind
from foodtrace.auth.service import authenticate, issue_token, list_tokens, revoke

__all__ = [
    "ApiToken",
    "Principal",
    "Role",
    "authenticate",
    "issue_token",
    "list_tokens",
    "revoke",
    "role_for_party_kind",
]
