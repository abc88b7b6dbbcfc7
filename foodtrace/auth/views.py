"""Routes of the token lifecycle: enrolment, and a party's tokens (list, issue, rotate,
revoke). Thin: :mod:`foodtrace.auth.flows` decides and logs; this turns its errors into
problems."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import codes, flows
from foodtrace.auth.deps import PrincipalDep
from foodtrace.auth.schemas import (
    EnrolmentCodeOut,
    EnrolRequest,
    RotateRequest,
    TokenIssued,
    TokenOut,
    TokenRequest,
    token_out,
)
from foodtrace.config import Settings
from foodtrace.record.views import API, get_log, sessions, settings_of

PartyPath = Annotated[str, Path(examples=["91310115MA1K4FXX2B"])]
TokenPath = Annotated[int, Path(ge=1, examples=[7])]


def logger_of(request: Request) -> flows.Logger:
    return flows.Logger(get_log(request), sessions(request), settings_of(request))


@contextmanager
def problems() -> Iterator[None]:
    """The flows' refusals as problem+json."""
    try:
        yield
    except flows.InvalidEnrolmentCode as exc:
        raise Problem(
            401,
            "Enrolment refused",
            f"{exc}: ask a regulator for a new code",
            problem_type("invalid-enrolment-code"),
            [FieldProblem("/body/code", "is not a live enrolment code of this party")],
        ) from exc
    except flows.NotAllowed as exc:
        raise Problem(403, "Forbidden", str(exc), problem_type("forbidden")) from exc
    except (flows.UnknownParty, flows.UnknownToken) as exc:
        raise Problem(404, "Not Found", str(exc), problem_type("not-found")) from exc
    except flows.AlreadyRevoked as exc:
        raise Problem(409, "Conflict", str(exc), problem_type("conflict")) from exc


def issued(new: flows.NewToken, key_id: str | None = None) -> TokenIssued:
    return TokenIssued(token=new.secret, metadata=token_out(new.token), key_id=key_id)


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["tokens"])

    @r.post(
        "/enrolments",
        status_code=201,
        summary="Exchange a party's one-time enrolment code for its own API token",
        description=(
            "No token needed: the code from the party's registration (or a regulator's "
            "re-issue) is the credential, and works once. With `public_key`, a key the "
            "party generated itself is registered in the same logged group."
        ),
        response_model=TokenIssued,
        responses=problem_responses(401, 409, 422, 503),
    )
    def enrol(request: Request, body: EnrolRequest) -> TokenIssued:
        with problems():
            new, key_id = flows.enrol(
                logger_of(request), body.party_id, body.code, body.name, body.public_key
            )
        return issued(new, key_id)

    @r.post(
        "/parties/{party_id}/enrolment-codes",
        status_code=201,
        summary="Issue a new enrolment code for a party (regulator)",
        description="For a party that lost its code or token; earlier codes stop working.",
        response_model=EnrolmentCodeOut,
        responses=problem_responses(401, 403, 404, 503),
    )
    def new_code(request: Request, principal: PrincipalDep, party_id: PartyPath) -> Any:
        with problems():
            code = codes.issue_code(logger_of(request), principal, party_id)
        return EnrolmentCodeOut(
            party_id=code.party_id, enrolment_code=code.code, expires_at=code.expires_at
        )

    @r.get(
        "/parties/{party_id}/tokens",
        summary="A party's tokens, without secrets (the party itself, or a regulator)",
        response_model=list[TokenOut],
        responses=paged_responses(401, 403, 404),
    )
    def list_tokens(
        request: Request,
        principal: PrincipalDep,
        party_id: PartyPath,
        page: PageDep,
        response: Response,
    ) -> Any:
        with problems():
            rows = flows.list_tokens(
                sessions(request),
                principal,
                party_id,
                after=page.after_index(),
                limit=page.fetch,
            )
        return page.keyed(response, [token_out(row) for row in rows], lambda t: t.id)

    @r.post(
        "/parties/{party_id}/tokens",
        status_code=201,
        summary="Issue another token for a party (the party itself, or a regulator)",
        response_model=TokenIssued,
        responses=problem_responses(401, 403, 404, 422, 503),
    )
    def issue_token(
        request: Request, principal: PrincipalDep, party_id: PartyPath, body: TokenRequest
    ) -> TokenIssued:
        with problems():
            new = flows.issue(
                logger_of(request), principal, party_id, body.name, body.expires_in_days
            )
        return issued(new)

    @r.post(
        "/parties/{party_id}/tokens/{token_id}/rotate",
        status_code=201,
        summary="Replace a token by a new one; the old one stops working at once",
        response_model=TokenIssued,
        responses=problem_responses(401, 403, 404, 409, 422, 503),
    )
    def rotate_token(
        request: Request,
        principal: PrincipalDep,
        party_id: PartyPath,
        token_id: TokenPath,
        body: Annotated[RotateRequest | None, Body()] = None,
    ) -> TokenIssued:
        with problems():
            new = flows.rotate(
                logger_of(request), principal, party_id, token_id, body.name if body else None
            )
        return issued(new)

    @r.delete(
        "/parties/{party_id}/tokens/{token_id}",
        status_code=204,
        summary="Revoke a token (the party itself, or a regulator)",
        response_class=Response,
        responses=problem_responses(401, 403, 404, 409, 503),
    )
    def revoke_token(
        request: Request, principal: PrincipalDep, party_id: PartyPath, token_id: TokenPath
    ) -> Response:
        with problems():
            flows.revoke(logger_of(request), principal, party_id, token_id)
        return Response(status_code=204)

    return r
