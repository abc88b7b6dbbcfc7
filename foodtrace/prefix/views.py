"""Routes for GS1 company prefixes: assigned by a regulator, readable by anyone."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, PageDep, paged_responses
from foodtrace.api.problems import problem_responses
from foodtrace.auth.deps import PrincipalDep
from foodtrace.config import Settings
from foodtrace.prefix import service
from foodtrace.prefix.rules import PREFIX_PATTERN
from foodtrace.prefix.schemas import PrefixBody, PrefixOut
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


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=API, tags=["prefixes"])

    @r.post(
        "/prefixes",
        status_code=201,
        summary="Assign a GS1 company prefix to a party (regulator)",
        response_model=Recorded[PrefixOut],
        openapi_extra=write_openapi(PrefixBody, PrefixBody.model_json_schema()["examples"][0]),
    )
    def assign_prefix(request: Request, principal: PrincipalDep, payload: Payload) -> Any:
        ref = write(request, principal, service.ENTRY_TYPE, payload)
        with sessions(request)() as session:
            out = service.get_prefix(session, PrefixBody.model_validate(ref.entry.body).prefix)
        return recorded(get_log(request), out, ref.index)

    @r.get(
        "/prefixes",
        summary="Assigned company prefixes",
        response_model=list[PrefixOut],
        responses=paged_responses(),
    )
    def read_prefixes(
        session: SessionDep,
        page: PageDep,
        response: Response,
        party_id: Annotated[str | None, Query(max_length=128)] = None,
    ) -> Any:
        after = page.after_key(TEXT)
        prefixes = service.list_prefixes(
            session, party_id, after=None if after is None else after[0], limit=page.fetch
        )
        return page.keyed(response, prefixes, lambda p: p.prefix)

    @r.get(
        "/prefixes/{prefix}",
        summary="One assigned company prefix and its proof",
        response_model=Recorded[PrefixOut],
        responses=problem_responses(404),
    )
    def read_prefix(
        log: LogDep, session: SessionDep, prefix: Annotated[str, Path(pattern=PREFIX_PATTERN)]
    ) -> Any:
        out = service.get_prefix(session, prefix)
        if out is None:
            raise not_found(f"Company prefix {prefix}")
        return recorded(log, out, out.entry_index)

    return r
