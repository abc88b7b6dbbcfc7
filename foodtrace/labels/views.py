"""Code-issuing routes: a regulator issues merchant codes; a producer issues codes for its
own lots (a regulator for any). Each answers JSON (the URL), PNG or SVG (``?format=``);
label sheets are A4 PDFs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from foodtrace.api.app import SessionDep
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import PrincipalDep, require_roles
from foodtrace.config import Settings
from foodtrace.labels import service
from foodtrace.labels.schemas import CodeOut, SerialsIn, SerialsOut, SheetIn, SheetItem
from foodtrace.labels.service import MEDIA_TYPES, ImageFormat, NamedCode
from foodtrace.party.models import Party
from foodtrace.product.models import Lot, Product
from foodtrace.record.views import API, not_found
from foodtrace.trace.codes import CodeError, lot_code, merchant_code, normalize_gtin, serial_code

Regulator = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]
Issuer = Annotated[Principal, Depends(require_roles(Role.REGULATOR, Role.PRODUCER))]
FORMAT_HELP = "json (the URL) when absent; png, svg, or pdf (a one-label A4 sheet)"
FormatQuery = Annotated[ImageFormat | None, Query(alias="format", description=FORMAT_HELP)]


def _code_problem(exc: CodeError, where: str) -> Problem:
    return Problem(
        422,
        "Invalid code value",
        str(exc),
        problem_type("invalid-code"),
        [FieldProblem(f"{where}/{exc.field}", exc.problem)],
    )


def _gtin(gtin: str, where: str = "/path") -> str:
    try:
        return normalize_gtin(gtin)
    except CodeError as exc:
        raise _code_problem(exc, where) from exc


def _own_lot(session: Session, principal: Principal, gtin: str, lot: str) -> tuple[Lot, str]:
    """The lot and its product name, if the caller may issue its codes (404 / 403)."""
    row = session.get(Lot, (gtin, lot))
    if row is None:
        raise not_found(f"Lot {lot} of {gtin}")
    if principal.role is not Role.REGULATOR and row.producer != principal.party_id:
        raise Problem(
            403,
            "Forbidden",
            f"Lot {lot} of {gtin} belongs to {row.producer}; only its producer or a regulator "
            "may issue its codes.",
            problem_type("forbidden"),
        )
    product = session.get(Product, gtin)
    return row, product.name if product else gtin


def _merchant(session: Session, party_id: str) -> Party:
    party = session.get(Party, party_id)
    if party is None:
        raise not_found(f"Party {party_id}")
    return party


def _answer(named: NamedCode, fmt: ImageFormat | None) -> Any:
    if fmt is None:
        return CodeOut.of(named.code, named.name)
    content = service.sheet([named]) if fmt is ImageFormat.PDF else service.render(named.code, fmt)
    return Response(content, media_type=MEDIA_TYPES[fmt])


def router(settings: Settings) -> APIRouter:
    r = APIRouter(prefix=f"{API}/codes", tags=["codes"])
    base = settings.public_base_url
    image_responses: dict[int | str, dict[str, Any]] = {
        200: {"content": {m: {} for m in MEDIA_TYPES.values()}},
        **problem_responses(401, 403, 404, 422),
    }

    @r.get(
        "/merchants/{party_id}",
        summary="A shop's merchant code (regulator): URL, PNG, SVG or PDF",
        response_model=CodeOut,
        responses=image_responses,
    )
    def merchant(session: SessionDep, _: Regulator, party_id: str, fmt: FormatQuery = None) -> Any:
        party = _merchant(session, party_id)
        try:
            code = merchant_code(base, party.credit_code, service.authority_key(settings))
        except CodeError as exc:
            raise _code_problem(exc, "/path") from exc
        return _answer(NamedCode(code, party.name), fmt)

    @r.get(
        "/lots/{gtin}/{lot}",
        summary="A lot's code (its producer or a regulator): URL, PNG, SVG or PDF",
        response_model=CodeOut,
        responses=image_responses,
    )
    def lot(
        session: SessionDep, principal: Issuer, gtin: str, lot: str, fmt: FormatQuery = None
    ) -> Any:
        gtin = _gtin(gtin)
        _, name = _own_lot(session, principal, gtin, lot)
        code = lot_code(base, gtin, lot, service.authority_key(settings))
        return _answer(NamedCode(code, f"{name} 批号{lot}"), fmt)

    @r.post(
        "/lots/{gtin}/{lot}/serials",
        status_code=201,
        summary="Mint N serial codes for a lot and record them",
        response_model=SerialsOut,
        responses=problem_responses(401, 403, 404, 422),
    )
    def mint_serials(
        session: SessionDep, principal: Issuer, gtin: str, lot: str, data: SerialsIn
    ) -> Any:
        gtin = _gtin(gtin)
        _, name = _own_lot(session, principal, gtin, lot)
        serials = service.issue_serials(session, gtin, lot, data.count, principal.party_id)
        key = service.authority_key(settings)
        codes = [CodeOut.of(serial_code(base, gtin, s, key), name) for s in serials]
        return SerialsOut(gtin=gtin, lot_code=lot, codes=codes)

    @r.get(
        "/lots/{gtin}/{lot}/serials",
        summary="A lot's issued serial codes: JSON, or an A4 label sheet (?format=pdf)",
        response_model=SerialsOut,
        responses=image_responses,
    )
    def list_serials(
        session: SessionDep,
        principal: Issuer,
        gtin: str,
        lot: str,
        fmt: Annotated[ImageFormat | None, Query(alias="format")] = None,
    ) -> Any:
        gtin = _gtin(gtin)
        _, name = _own_lot(session, principal, gtin, lot)
        key = service.authority_key(settings)
        codes = [serial_code(base, gtin, s, key) for s in service.lot_serials(session, gtin, lot)]
        if fmt is ImageFormat.PDF:
            pdf = service.sheet([NamedCode(c, name) for c in codes], title=f"{name} {lot}")
            return Response(pdf, media_type=MEDIA_TYPES[fmt])
        if fmt is not None:
            raise Problem(
                422,
                "Unsupported format",
                "A list of serials is JSON or a PDF label sheet.",
                problem_type("validation"),
                [FieldProblem("/query/format", "expected json or pdf")],
            )
        return SerialsOut(gtin=gtin, lot_code=lot, codes=[CodeOut.of(c, name) for c in codes])

    @r.post(
        "/sheet",
        summary="An A4 label sheet PDF for a set of codes",
        response_class=Response,
        responses={
            200: {"content": {"application/pdf": {}}},
            **problem_responses(401, 403, 404, 422),
        },
    )
    def label_sheet(session: SessionDep, principal: PrincipalDep, data: SheetIn) -> Response:
        key = service.authority_key(settings)
        labels = [
            _sheet_label(session, principal, item, i, base, key)
            for i, item in enumerate(data.codes)
        ]
        return Response(service.sheet(labels, title=data.title), media_type="application/pdf")

    return r


def _sheet_label(
    session: Session, principal: Principal, item: SheetItem, i: int, base: str, key: Any
) -> NamedCode:
    where = f"/body/codes/{i}"
    if item.party_id is not None:
        if principal.role is not Role.REGULATOR:
            raise Problem(403, "Forbidden", "Only a regulator issues merchant codes.")
        party = _merchant(session, item.party_id)
        return NamedCode(merchant_code(base, party.credit_code, key), party.name)
    assert item.gtin is not None
    gtin = _gtin(item.gtin, where)
    if item.lot is not None:
        _, name = _own_lot(session, principal, gtin, item.lot)
        return NamedCode(lot_code(base, gtin, item.lot, key), f"{name} 批号{item.lot}")
    assert item.serial is not None
    issued = service.serial_lot(session, gtin, item.serial)
    if issued is None:
        raise Problem(
            422,
            "Unknown serial",
            f"Serial {item.serial} of {gtin} was never issued.",
            problem_type("invalid-code"),
            [FieldProblem(f"{where}/serial", "expected a serial issued for a lot")],
        )
    _, name = _own_lot(session, principal, gtin, issued.lot_code)
    return NamedCode(serial_code(base, gtin, item.serial, key), name)
