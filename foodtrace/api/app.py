"""The FastAPI application: problem+json errors, the body-size limit, a database session per
request, and the routers each area contributes.

Each area's ``views`` module exposes ``router(settings: Settings) -> APIRouter``;
:func:`area_routers` lists them in order (imported inside the function because the views
import this module), and tests or embedders pass extra factories to :func:`create_app`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from foodtrace import __version__
from foodtrace.api.headers import SecurityHeaders
from foodtrace.api.limits import BodySizeLimit, ReadsInFlight
from foodtrace.api.links import linked_openapi
from foodtrace.api.matching import ScanFirstApp
from foodtrace.api.problems import install_problem_handlers, problem_responses
from foodtrace.config import MAX_REQUEST_BYTES, Settings
from foodtrace.observe import views as observe_views
from foodtrace.observe.health import ChainProbe
from foodtrace.observe.middleware import RequestObserver
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
    url = engine.url.render_as_string(hide_password=False)
    log, sequencer = _log_and_sequencer(url, settings)

    # The embedded chain has one opener per process, shared by the anchorer and /chain/rpc.
    from foodtrace.ledger.shared import SharedChain

    chain = None if settings.chain_url else SharedChain(settings)
    # Under several workers every one runs an anchorer; the anchoring lock lets one act.
    anchorer = None
    if run_anchorer:
        from foodtrace.ledger.anchorer import Anchorer

        anchorer = Anchorer(log, settings, connect=chain.get if chain else None)

    # EPCIS subscriptions are delivered by a worker that lives as long as the app.
    from foodtrace.epcis.subscription.worker import SubscriptionWorker

    deliveries = SubscriptionWorker(session_factory(engine), settings)
    # Configured witnesses are asked to cosign each new checkpoint, in background threads.
    from foodtrace.witness.collector import from_settings as witness_collector

    witnesses = witness_collector(
        log, settings.witnesses, settings.witness_poll_seconds, settings.witness_timeout_seconds
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        from foodtrace.epcis import pool as capture_pool
        from foodtrace.store.keyfiles import check_keys

        check_keys(settings, engine)  # no silent new keys: refuse to start instead
        if sequencer is not None:
            sequencer.start()
        if anchorer is not None:
            anchorer.start()
        deliveries.start()
        if witnesses is not None:
            witnesses.start()
        yield
        if witnesses is not None:
            witnesses.close()
        deliveries.close()
        if anchorer is not None:
            anchorer.close()
        if sequencer is not None:
            sequencer.close()
        if chain is not None:
            chain.close()
        capture_pool.shutdown(wait=False)  # no capture process outlives the server
        log.close()
        if owned:
            engine.dispose()

    app = ScanFirstApp(
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
    app.state.chain = chain
    app.state.sessions = session_factory(engine)
    app.state.anchorer = anchorer
    app.state.witnesses = witnesses
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes)
    app.add_middleware(ReadsInFlight)  # captures' projection gives way to pages
    app.add_middleware(
        SecurityHeaders,
        public_base_url=settings.public_base_url,
        rpc_urls=[settings.chain_public_url],
    )
    app.add_middleware(RequestObserver)  # outermost of ours: times and logs every request
    app.include_router(observe_views.router(ChainProbe(settings, anchorer)))
    for factory in (*area_routers(), *routers):
        app.include_router(factory(settings), responses=problem_responses())
    app.match_scans_first()  # a scan's requests; documented in the areas' order still
    app.openapi = linked_openapi(app.openapi)  # type: ignore[method-assign]
    return app


def _log_and_sequencer(url: str, settings: Settings) -> tuple[MerkleLog, Any]:
    """The in-process log, or (``settings.sequencer`` on PostgreSQL) a log whose writes go
    through the elected sequencer, and this worker's candidate sequencer if it stands."""
    if settings.sequencer == "off" or url.startswith("sqlite"):
        return MerkleLog(url, settings=settings, migrate=False), None
    from foodtrace.sequencer.client import SequencedLog
    from foodtrace.sequencer.sequencer import Sequencer

    sequencer = Sequencer(url, settings) if settings.sequencer == "candidate" else None
    return SequencedLog(url, settings=settings), sequencer


def area_routers() -> list[RouterFactory]:
    """Every area's router factory, in the order their routes are documented and matched
    (except the scan's areas, matched first: :mod:`foodtrace.api.matching`)."""
    from foodtrace.alert import views as alert
    from foodtrace.auth import views as auth
    from foodtrace.complaint import owner_views as complaint_owners
    from foodtrace.complaint import views as complaint
    from foodtrace.draw import views as draw
    from foodtrace.epcis import views as epcis
    from foodtrace.fsma import views as fsma
    from foodtrace.grading import views as grading
    from foodtrace.grid import views as grid
    from foodtrace.health import views as health
    from foodtrace.inspection import views as inspection
    from foodtrace.labels import views as labels
    from foodtrace.ledger import views as ledger
    from foodtrace.lists import views as lists
    from foodtrace.log_api import views as log_api
    from foodtrace.masterdata import views as masterdata
    from foodtrace.party import views as party
    from foodtrace.prefix import views as prefix
    from foodtrace.product import views as product
    from foodtrace.provenance import views as provenance
    from foodtrace.recall import views as recall
    from foodtrace.record import views as record
    from foodtrace.report import views as report
    from foodtrace.resolver import views as resolver
    from foodtrace.scan import views as scan
    from foodtrace.tlog import views as tlog
    from foodtrace.workbench import street as workbench_street
    from foodtrace.workbench import views as workbench

    return [
        record.router,
        party.router,
        auth.router,
        prefix.router,
        product.router,
        provenance.router,
        report.router,
        health.router,
        grading.router,  # before inspection: /inspections/schedule is not an entry index
        inspection.router,
        epcis.router,
        masterdata.router,
        fsma.router,
        recall.router,
        complaint_owners.router,  # before complaint: /complaints/escalations is no number
        complaint.router,
        grid.router,
        alert.router,
        draw.router,
        scan.router,
        labels.router,
        lists.router,
        log_api.router,
        tlog.router,
        ledger.router,
        resolver.router,
        workbench.router,
        workbench_street.router,
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
