"""Routes for staff health certificates. The personal data goes to its own table, never
into the entry; reads show it masked; a regulator can erase it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from pydantic import ValidationError

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.health import erasure, service
from foodtrace.health.models import PersonalData
from foodtrace.health.schemas import CERTIFICATE_EXAMPLE, CertificateIn, CertificateOut, PersonalIn
from foodtrace.record.schemas import Recorded
from foodtrace.record.service import body_problems
from foodtrace.record.views import (
    API,
    LogDep,
    Payload,
    check_role,
    get_log,
    not_found,
    recorded,
    sessions,
    settings_of,
    write,
    write_openapi,
)
from foodtrace.store import redact

TYPE = "health.certificate.issue"


def _invalid(problems: list[FieldProblem]) -> Problem:
    return Problem(
        422,
        "Invalid entries",
        f"Nothing was written: {len(problems)} problem(s)",
        problem_type("invalid-entry"),
        problems,
    )


def _personal_rows(payload: dict[str, Any]) -> tuple[dict[str, Any], list[PersonalData]]:
    """The payload to write (entry or plain commitments) and the personal rows to keep."""
    if "entry" not in payload:
        problems = body_problems(CertificateIn, payload, "/body")
        if problems:
            raise _invalid(problems)
        plain = CertificateIn.model_validate(payload)
        commitment, name_row = service.commit_personal(plain.holder_name, "name")
        rows = [name_row]
        body = plain.model_dump(mode="json", exclude={"holder_name", "holder_id_number"})
        body["holder_commitment"] = commitment
        if plain.holder_id_number:
            body["id_commitment"], id_row = service.commit_personal(
                plain.holder_id_number, "id_number"
            )
            rows.append(id_row)
        return body, rows
    entry_body = payload["entry"].get("body") if isinstance(payload["entry"], dict) else None
    raw = payload.get("personal")
    if raw is None or not isinstance(entry_body, dict):
        return payload, []  # write() reports what is wrong with the entry
    try:
        given = PersonalIn.model_validate(raw)
    except ValidationError:
        raise _invalid(body_problems(PersonalIn, raw, "/body/personal")) from None
    opened = [
        service.open_personal(
            str(entry_body.get("holder_commitment", "")),
            given.holder_name,
            given.holder_salt,
            "name",
            "/body/personal/holder_salt",
        )
    ]
    if given.holder_id_number is not None:
        opened.append(
            service.open_personal(
                str(entry_body.get("id_commitment", "")),
                given.holder_id_number,
                given.id_salt or "",
                "id_number",
                "/body/personal/id_salt",
            )
        )
    problems = [FieldProblem(*o) for o in opened if isinstance(o, tuple)]
    if problems:
        raise _invalid(problems)
    return payload, [o for o in opened if isinstance(o, PersonalData)]


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["health certificates"])
    doc = write_openapi(CertificateIn, CERTIFICATE_EXAMPLE)
    doc["requestBody"]["content"]["application/json"]["examples"]["signed"]["value"] = {
        "entry": {"v": 1, "type": TYPE, "body": {"holder_commitment": "…64 hex…"}},
        "personal": {"holder_name": "张小三", "holder_salt": "base64 of the salt"},
    }

    @r.post(
        "/health-certificates",
        status_code=201,
        summary="Record a staff health certificate (employer)",
        description=(
            "The entry holds only salted commitments to the holder's name and ID number. "
            "With a plain body the server commits and signs; with a signed entry, send the "
            "values and salts in `personal` so they can be shown masked."
        ),
        response_model=Recorded[CertificateOut],
        openapi_extra=doc,
    )
    def issue_certificate(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        if "entry" not in payload:
            check_role(principal, TYPE)
        to_write, rows = _personal_rows(dict(payload))
        ref = write(
            request,
            principal,
            TYPE,
            to_write,
            extra_fields=frozenset({"personal"}),
            also=service.personal_projector(rows),
        )
        with sessions(request)() as session:
            cert = service.get_certificate(session, ref.entry.body["certificate_number"])
        return recorded(get_log(request), cert, ref.index)

    @r.get(
        "/health-certificates/{number}",
        summary="A health certificate, holder masked, with its proof",
        response_model=Recorded[CertificateOut],
        responses=problem_responses(404),
    )
    def read_certificate(log: LogDep, session: SessionDep, number: str) -> Any:
        cert = service.get_certificate(session, number)
        if cert is None:
            raise not_found(f"Health certificate {number}")
        return recorded(log, cert, cert.entry_index)

    @r.get(
        "/parties/{party_id}/health-certificates",
        summary="An employer's staff health certificates",
        response_model=list[Recorded[CertificateOut]],
        responses=paged_responses(),
    )
    def read_employer_certificates(
        log: LogDep, session: SessionDep, party_id: str, page: PageDep, response: Response
    ) -> Any:
        certs = page.keyed(
            response,
            service.employer_certificates(
                session, party_id, after=page.after_index(), limit=page.fetch
            ),
            _index,
        )
        return [recorded(log, c, c.entry_index) for c in certs]

    @r.delete(
        "/health-certificates/{number}/personal-data",
        summary="Erase the holder's personal data (regulator, PIPL); proofs stay valid",
        description=(
            "The values are overwritten, then deleted, in the transaction that logs a "
            "`personal.erase` entry (commitments, reason and the regulator; no value)."
        ),
        response_model=CertificateOut,
        responses=problem_responses(401, 403, 404),
    )
    def erase(
        request: Request,
        background: BackgroundTasks,
        number: str,
        principal: Annotated[Principal, Depends(require_roles(Role.REGULATOR))],
        reason: Annotated[str, Query(min_length=1, max_length=200)] = erasure.DEFAULT_REASON,
    ) -> Any:
        try:
            erasure.erase(
                get_log(request),
                sessions(request),
                settings_of(request),
                "health_certificate",
                number,
                principal.party_id,
                reason,
            )
        except erasure.NothingToErase:
            raise not_found(f"Health certificate {number}") from None
        background.add_task(redact.purge_sqlite_wal, request.app.state.engine)
        with sessions(request)() as session:
            return service.get_certificate(session, number)

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index
