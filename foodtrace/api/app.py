"""The FastAPI application: problem+json errors, the body-size limit, a database session per
request, and the routers each area contributes.

Each area's ``views`` module exposes ``router(settings: Settings) -> APIRouter``;
:func:`area_routers` lists them in order (imported inside the function because the views
import this module), and tests or embedders pass extra factories to :func:`create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from foodtrace import __version__
from foodtrace.api.headers import SecurityHeaders
from foodtrace.api.limits import BodySizeLimit
from foodtrace.api.problems import Problem, install_problem_handlers, problem_responses
from foodtrace.config import MAX_REQUEST_BYTES, Settings
from foodtrace.store.db import make_engine, session_factory
from foodtrace.store.log import MerkleLog

RouterFactory = Callable[[Settings], APIRouter]

TITLE = "FoodTrace 食安链 API"
DESCRIPTION = (
    "Blockchain-anchored food traceability. Every error is RFC 9457 "
    "`application/problem+json` with an `errors` list of `{pointer, detail}`."
)


def create_app(
    settings: Settings | None = None,
    *,
    routers: Iterable[RouterFactory] = (),
    engine: Engine | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    run_anchorer: bool = False,
) -> FastAPI:
    """Build the API. ``engine`` defaults to one made from ``settings.resolved_database_url``
    (and disposed on shutdown); pass one to share it with the caller (tests)."""
    settings = settings or Settings()
    owned = engine is None
    engine = engine or make_engine(settings.resolved_database_url)

    # The log shares the database; it does not migrate here (``foodtrace migrate`` does).
    log = MerkleLog(
        engine.url.render_as_string(hide_password=False), settings=settings, migrate=False
    )

    # Under several workers every one runs an anchorer; the anchoring lock lets one act.
    anchorer = None
    if run_anchorer:
        from foodtrace.ledger.anchorer import Anchorer

        anchorer = Anchorer(log, settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if anchorer is not None:
            anchorer.start()
        yield
        if anchorer is not None:
            anchorer.close()
        log.close()
        if owned:
            engine.dispose()

    app = FastAPI(
        title=TITLE,
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.log = log
    app.state.sessions = session_factory(engine)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes)
    app.add_middleware(
        SecurityHeaders,
        public_base_url=settings.public_base_url,
        rpc_urls=[settings.chain_public_url],
    )
    app.include_router(_health_router(), responses=problem_responses(500, 503))
    for factory in (*area_routers(), *routers):
        app.include_router(factory(settings), responses=problem_responses())
    return app


def area_routers() -> list[RouterFactory]:
    """Every area's router factory, in the order their routes are matched."""
    from foodtrace.complaint import views as complaint
    from foodtrace.epcis import views as epcis
    from foodtrace.health import views as health
    from foodtrace.inspection import views as inspection
    from foodtrace.labels import views as labels
    from foodtrace.log_api import views as log_api
    from foodtrace.party import views as party
    from foodtrace.product import views as product
    from foodtrace.record import views as record
    from foodtrace.report import views as report
    from foodtrace.resolver import views as resolver
    from foodtrace.scan import views as scan

    return [
        record.router,
        party.router,
        product.router,
        report.router,
        health.router,
        inspection.router,
        epcis.router,
        complaint.router,
        scan.router,
        labels.router,
        log_api.router,
        resolver.router,
    ]


def get_session(request: Request) -> Iterator[Session]:
    """One session per request: committed when the route returns, rolled back if it raises.

    Use through :data:`SessionDep`, whose ``scope="function"`` commits before the response
    is sent, so a client never sees success for a write that then failed to commit.
    """
    with request.app.state.sessions() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def _health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness and database reachability")
    def healthz(session: SessionDep) -> dict[str, str]:
        try:
            session.execute(text("SELECT 1"))
        except Exception as exc:
            raise Problem(503, "Service Unavailable", "The database is not reachable.") from exc
        return {"status": "ok"}

    return router
