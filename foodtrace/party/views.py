"""Routes for parties, their keys and licences. Writes need a token; reads are public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Role
from foodtrace.auth.deps import PrincipalDep
from foodtrace.auth.views import logger_of, problems
from foodtrace.config import Settings
from foodtrace.party import registration, service
from foodtrace.party.schemas import (
    CustodialKeyOut,
    KeyBody,
    KeyRevokeBody,
    LicenceBody,
    LicenceOut,
    LicenceRevokeBody,
    PartyBody,
    PartyCreated,
    PartyOut,
)
from foodtrace.record.custody import create_custodial_key
from foodtrace.record.schemas import Recorded
from foodtrace.record.service import record_proof
from foodtrace.record.views import (
    API,
    LogDep,
    Payload,
    entry_of,
    get_log,
    not_found,
    sessions,
    settings_of,
    write,
    write_openapi,
)
from foodtrace.trace import keys

PARTY_EXTRA = frozenset({"custodial"})


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["parties"])
    party_doc = write_openapi(PartyBody, PartyBody.model_json_schema()["examples"][0])
    party_doc["requestBody"]["content"]["application/json"]["examples"]["custodial"]["value"] |= {
        "custodial": True,
    }

    @r.post(
        "/parties",
        status_code=201,
        summary="Register a party (regulator)",
        description=(
            "A `party.register` entry. With a plain body, `custodial: true` makes the server "
            "generate and hold the party's signing key. The answer carries a one-time "
            "enrolment code (shown once) that the party exchanges for its own token at "
            "`POST /api/v1/enrolments`."
        ),
        response_model=PartyCreated,
        responses=problem_responses(401, 403, 409, 422, 503, 507),
        openapi_extra=party_doc,
    )
    def register_party(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        body = dict(payload)
        custodial_id = None
        if "entry" not in body and body.get("custodial") is True:
            party_id = body.get("party_id")
            if principal.role is Role.REGULATOR and isinstance(party_id, str):
                with sessions(request)() as session, session.begin():
                    public = create_custodial_key(session, party_id, settings_of(request))
                custodial_id = keys.key_id(keys.public_from_b64(public))
                body["public_keys"] = [*body.get("public_keys", []), public]
        try:
            entry, base = entry_of(
                request, principal, "party.register", body, extra_fields=PARTY_EXTRA
            )
            with problems():
                done = registration.register(
                    get_log(request), sessions(request), logger_of(request), principal, entry, base
                )
        except BaseException:
            if custodial_id is not None:
                party_id = body["party_id"]
                registration.discard_custodial_key(sessions(request), party_id, custodial_id)
            raise
        with sessions(request)() as session:
            party = service.get_party(session, done.ref.entry.body["party_id"])
        assert party is not None
        return PartyCreated(
            party=party,
            entry_index=done.ref.index,
            enrolment_code=done.code.code,
            enrolment_code_expires_at=done.code.expires_at,
            custodial_key_id=custodial_id,
        )

    @r.post(
        "/custodial-keys",
        status_code=201,
        summary="Have the server generate and hold a signing key for a party",
        description=(
            "Returns the public key, which a `party.key.register` entry (or the "
            "`public_keys` of `party.register`) must then register before it can sign. "
            "Regulators may ask for any party; other parties only for themselves."
        ),
        response_model=CustodialKeyOut,
        responses=problem_responses(401, 403),
    )
    def new_custodial_key(
        request: Request,
        principal: PrincipalDep,
        party_id: Annotated[str, Body(embed=True, examples=["91310115MA1K4FXX2B"])],
    ) -> CustodialKeyOut:
        if principal.role is not Role.REGULATOR and party_id != principal.party_id:
            raise Problem(
                403,
                "Forbidden",
                "Only a regulator may create a key for another party.",
                problem_type("forbidden"),
                [FieldProblem("/body/party_id", f"expected {principal.party_id}")],
            )
        with sessions(request)() as session, session.begin():
            public = create_custodial_key(session, party_id, settings_of(request))
        return CustodialKeyOut(
            party_id=party_id, key_id=keys.key_id(keys.public_from_b64(public)), public_key=public
        )

    @r.post(
        "/party-keys",
        status_code=201,
        summary="Register a signing key (regulator, or the party rotating its own key)",
        response_model=Recorded[PartyOut],
        openapi_extra=write_openapi(KeyBody, {"party_id": "91310115MA1K4FXX2B", "public_key": "…"}),
    )
    def register_key(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "party.key.register", payload)
        return _party(request, ref.entry.body["party_id"], ref.index)

    @r.post(
        "/party-keys/revocations",
        status_code=201,
        summary="Revoke a signing key (regulator, or the party itself)",
        response_model=Recorded[PartyOut],
        openapi_extra=write_openapi(
            KeyRevokeBody, KeyRevokeBody.model_json_schema()["examples"][0]
        ),
    )
    def revoke_key(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "party.key.revoke", payload)
        return _party(request, ref.entry.body["party_id"], ref.index)

    @r.post(
        "/licences",
        status_code=201,
        summary="Record a licence (regulator)",
        response_model=Recorded[LicenceOut],
        openapi_extra=write_openapi(LicenceBody, LicenceBody.model_json_schema()["examples"][0]),
    )
    def issue_licence(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "licence.issue", payload)
        return _licence(request, ref.entry.body["number"], ref.index)

    @r.post(
        "/licences/revocations",
        status_code=201,
        summary="Revoke a licence (regulator)",
        response_model=Recorded[LicenceOut],
        openapi_extra=write_openapi(
            LicenceRevokeBody, LicenceRevokeBody.model_json_schema()["examples"][0]
        ),
    )
    def revoke_licence(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "licence.revoke", payload)
        return _licence(request, ref.entry.body["number"], ref.index)

    @r.get(
        "/parties/{party_id}",
        summary="A party, its keys, and its proof",
        response_model=Recorded[PartyOut],
        responses=problem_responses(404),
    )
    def read_party(
        log: LogDep,
        session: SessionDep,
        party_id: Annotated[str, Path(examples=["91310115MA1K4FXX2B"])],
    ) -> Any:
        party = service.get_party(session, party_id)
        if party is None:
            raise not_found(f"Party {party_id}")
        return {
            "record": party,
            "entry_index": party.entry_index,
            "proof": record_proof(log, party.entry_index),
        }

    @r.get(
        "/parties/{party_id}/licences",
        summary="A party's licences with their status",
        response_model=list[Recorded[LicenceOut]],
        responses=paged_responses(),
    )
    def read_party_licences(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        licences = page.keyed(
            response,
            service.party_licences(session, party_id, after=page.after_index(), limit=page.fetch),
            _index,
        )
        return [
            {
                "record": lic,
                "entry_index": lic.entry_index,
                "proof": record_proof(log, lic.entry_index),
            }
            for lic in licences
        ]

    @r.get(
        "/licences/{number}",
        summary="A licence with its status (valid, expiring, expired, revoked)",
        response_model=Recorded[LicenceOut],
        responses=problem_responses(404),
    )
    def read_licence(
        log: LogDep,
        session: SessionDep,
        number: Annotated[str, Path(examples=["JY23101150012345"])],
    ) -> Any:
        lic = service.get_licence(session, number)
        if lic is None:
            raise not_found(f"Licence {number}")
        return {
            "record": lic,
            "entry_index": lic.entry_index,
            "proof": record_proof(log, lic.entry_index),
        }

    def _party(request: Request, party_id: str, index: int) -> dict[str, Any]:
        with sessions(request)() as session:
            party = service.get_party(session, party_id)
        return {
            "record": party,
            "entry_index": index,
            "proof": record_proof(request.app.state.log, index),
        }

    def _licence(request: Request, number: str, index: int) -> dict[str, Any]:
        with sessions(request)() as session:
            lic = service.get_licence(session, number)
        return {
            "record": lic,
            "entry_index": index,
            "proof": record_proof(request.app.state.log, index),
        }

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index
