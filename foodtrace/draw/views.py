"""Routes for 双随机 draws: propose and commit (regulator), make the result once the seed
block exists (regulator), and read every draw (public: 一公开)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import PageDep, paged_responses
from foodtrace.api.problems import (
    FieldProblem,
    Problem,
    problem_responses,
    problem_type,
    validation_problem,
)
from foodtrace.auth import Principal, Role
from foodtrace.auth.deps import require_roles
from foodtrace.config import Settings
from foodtrace.draw import flows, service
from foodtrace.draw.blocks import BlockSource, ChainBlocks
from foodtrace.draw.schemas import DrawCommitBody, DrawOut, DrawRequest
from foodtrace.grading.flows import local_day
from foodtrace.ledger.chain import ChainError, connect
from foodtrace.ledger.shared import SharedChain
from foodtrace.record.schemas import Recorded
from foodtrace.record.views import (
    API,
    Payload,
    get_log,
    not_found,
    recorded,
    sessions,
    settings_of,
    write,
    write_openapi,
)

Regulator = Annotated[Principal, Depends(require_roles(Role.REGULATOR))]


@contextmanager
def block_source(request: Request) -> Iterator[BlockSource]:
    """``app.state.draw_blocks`` if the embedder set one; else the embedded chain this
    process already holds open (shared with the anchorer and ``POST /chain/rpc``: its file
    admits one opener, so a draw must not open it again); else the configured external
    chain for the duration of the call."""
    given: BlockSource | None = getattr(request.app.state, "draw_blocks", None)
    if given is not None:
        yield given
        return
    shared: SharedChain | None = getattr(request.app.state, "chain", None)
    try:
        chain = shared.get() if shared is not None else connect(settings_of(request))
    except ChainError as exc:
        raise Problem(503, "Service Unavailable", f"The chain is not reachable: {exc}") from exc
    if shared is not None:
        yield ChainBlocks(chain.w3)  # the holder closes it at shutdown
        return
    with chain:
        yield ChainBlocks(chain.w3)


def _conflict(detail: str, pointer: str) -> Problem:
    return Problem(
        409, "Conflict", detail, problem_type("conflict"), [FieldProblem(pointer, detail)]
    )


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["draws"])

    @r.post(
        "/draws/proposals",
        summary="The draw.commit body a draw request gives, to sign (regulator; writes nothing)",
        response_model=DrawCommitBody,
        responses=problem_responses(401, 403, 503),
    )
    def propose(request: Request, session: SessionDep, _: Regulator, data: DrawRequest) -> Any:
        with block_source(request) as blocks:
            return flows.propose(session, data, blocks, local_day())

    @r.post(
        "/draws",
        status_code=201,
        summary="Commit to a draw: candidates, weights and a future seed block (regulator)",
        description="Either a signed `draw.commit` entry (from /draws/proposals) or a plain "
        "draw request, which the server expands and signs with the regulator's custodial key.",
        response_model=Recorded[DrawOut],
        openapi_extra=write_openapi(DrawRequest, DrawRequest.model_json_schema()["examples"][0]),
        responses=problem_responses(401, 403, 409, 422, 503),
    )
    def commit(request: Request, principal: Regulator, payload: Payload) -> Any:
        with block_source(request) as blocks:
            if "entry" not in payload:
                try:
                    data = DrawRequest.model_validate(payload)
                except ValidationError as exc:  # a plain request: 422 naming each field
                    raise validation_problem(
                        {**e, "loc": ("body", *e["loc"])} for e in exc.errors()
                    ) from exc
                with sessions(request)() as session:
                    payload = flows.propose(session, data, blocks, local_day())
                pointer = "/body"
            else:
                pointer = "/body/entry/body"
            entry = payload.get("entry")
            body = entry.get("body") if isinstance(entry, dict) else payload
            try:
                flows.check_future_block(body if isinstance(body, dict) else {}, blocks)
            except flows.TooEarly as exc:
                raise _conflict(str(exc), pointer + "/block_number") from exc
            ref = write(request, principal, service.COMMIT_TYPE, payload)
        with sessions(request)() as session:
            draw = service.get_draw(session, ref.entry.body["draw_id"])
        return recorded(get_log(request), draw, ref.index)

    @r.post(
        "/draws/{draw_id}/result",
        status_code=201,
        summary="Run the draw from its seed block and publish the result (regulator)",
        response_model=Recorded[DrawOut],
        responses=problem_responses(401, 403, 404, 409, 422, 503),
    )
    def make_result(request: Request, _: Regulator, draw_id: str) -> Any:
        with block_source(request) as blocks:
            try:
                ref = flows.result(
                    get_log(request), sessions(request), settings_of(request), draw_id, blocks
                )
            except flows.UnknownDraw as exc:
                raise not_found(f"Draw {draw_id}") from exc
            except (flows.NotYet, flows.TooEarly) as exc:
                raise _conflict(str(exc), "/draw_id") from exc
        with sessions(request)() as session:
            draw = service.get_draw(session, draw_id)
        return recorded(get_log(request), draw, ref.index)

    @r.get(
        "/draws",
        summary="Every draw, newest first (public)",
        response_model=list[DrawOut],
        responses=paged_responses(),
    )
    def read_draws(
        session: SessionDep,
        page: PageDep,
        response: Response,
        period: Annotated[str | None, Query()] = None,
    ) -> Any:
        draws = service.list_draws(session, period, before=page.after_index(), limit=page.fetch)
        return page.keyed(response, draws, lambda d: d.commit_entry_index)

    @r.get(
        "/draws/{draw_id}",
        summary="A draw's commitment and result, to re-run with `foodtrace draw verify` (public)",
        response_model=DrawOut,
        responses=problem_responses(404),
    )
    def read_draw(session: SessionDep, draw_id: str) -> Any:
        draw = service.get_draw(session, draw_id)
        if draw is None:
            raise not_found(f"Draw {draw_id}")
        return draw

    return r
