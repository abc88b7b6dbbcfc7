"""Routes for products and lots. Writes need a producer's token; reads are public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import problem_responses
from foodtrace.auth.deps import PrincipalDep
from foodtrace.config import Settings
from foodtrace.product import service
from foodtrace.product.schemas import LotBody, LotOut, ProductBody, ProductOut
from foodtrace.record.schemas import Recorded
from foodtrace.record.views import (
    API,
    LogDep,
    Payload,
    get_log,
    not_found,
    recorded,
    sessions,
    write,
    write_openapi,
)

GtinPath = Annotated[str, Path(pattern=r"^\d{8,14}$", examples=["06901234567892"])]


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["products"])

    @r.post(
        "/products",
        status_code=201,
        summary="Register a product (producer)",
        response_model=Recorded[ProductOut],
        openapi_extra=write_openapi(ProductBody, ProductBody.model_json_schema()["examples"][0]),
    )
    def register_product(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "product.register", payload)
        with sessions(request)() as session:
            product = service.get_product(session, ProductBody.model_validate(ref.entry.body).gtin)
        return recorded(get_log(request), product, ref.index)

    @r.post(
        "/lots",
        status_code=201,
        summary="Create a lot of one of your products (producer)",
        response_model=Recorded[LotOut],
        openapi_extra=write_openapi(LotBody, LotBody.model_json_schema()["examples"][0]),
    )
    def create_lot(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, "lot.create", payload)
        body = LotBody.model_validate(ref.entry.body)
        with sessions(request)() as session:
            lot = service.get_lot(session, body.gtin, body.lot_code)
        return recorded(get_log(request), lot, ref.index)

    @r.get(
        "/products/{gtin}",
        summary="A product and its proof",
        response_model=Recorded[ProductOut],
        responses=problem_responses(404),
    )
    def read_product(log: LogDep, session: SessionDep, gtin: GtinPath) -> Any:
        product = service.get_product(session, gtin)
        if product is None:
            raise not_found(f"Product {gtin}")
        return recorded(log, product, product.entry_index)

    @r.get(
        "/products/{gtin}/lots",
        summary="The lots of a product",
        response_model=list[Recorded[LotOut]],
        responses=paged_responses(),
    )
    def read_product_lots(
        log: LogDep, session: SessionDep, gtin: GtinPath, page: PageDep, response: Response
    ) -> Any:
        lots = page.keyed(
            response,
            service.product_lots(session, gtin, after=page.after_index(), limit=page.fetch),
            _index,
        )
        return [recorded(log, lot, lot.entry_index) for lot in lots]

    @r.get(
        "/lots/{gtin}/{lot_code}",
        summary="A lot and its proof",
        response_model=Recorded[LotOut],
        responses=problem_responses(404),
    )
    def read_lot(
        log: LogDep,
        session: SessionDep,
        gtin: GtinPath,
        lot_code: Annotated[str, Path(examples=["20260301A"])],
    ) -> Any:
        lot = service.get_lot(session, gtin, lot_code)
        if lot is None:
            raise not_found(f"Lot {lot_code} of {gtin}")
        return recorded(log, lot, lot.entry_index)

    return r


def _index(record: Any) -> int:
    """A listed record's page cursor: the entry it was projected from."""
    index: int = record.entry_index
    return index
