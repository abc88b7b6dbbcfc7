"""Red and black lists: public zh-CN pages (``/lists/red``, ``/lists/black``) and JSON
(``/api/v1/lists/red``, ``/api/v1/lists/black``)."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import DAY, TEXT, TOKEN_HEADER, PageDep, PageRequest, paged_responses
from foodtrace.config import Settings
from foodtrace.grading.flows import local_day
from foodtrace.lists.schemas import ListKind, ListOut
from foodtrace.lists.service import listing
from foodtrace.record.views import API
from foodtrace.resolver.rendering import static_url

AsOf = Annotated[date | None, Query(description="the day (default: today in China, UTC+8)")]


@cache
def templates() -> Environment:
    """This area's templates, extending the resolver's ``base.html``."""
    env = Environment(
        loader=ChoiceLoader(
            [
                PackageLoader("foodtrace.lists", "templates"),
                PackageLoader("foodtrace.resolver", "templates"),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    return env


def _today(as_of: date | None) -> date:
    return as_of or local_day()


def _add(r: APIRouter, kind: ListKind) -> None:
    def read_json(
        session: SessionDep, page: PageDep, response: Response, as_of: AsOf = None
    ) -> Any:
        return _paged(session, page, response, _today(as_of))

    def read_page(session: SessionDep, page: PageDep, as_of: AsOf = None) -> Any:
        response = HTMLResponse("")
        found = _paged(session, page, response, _today(as_of))
        token = response.headers.get(TOKEN_HEADER)
        html = (
            templates()
            .get_template("list.html")
            .render(listing=found, next_url=page.next_url(token) if token else None)
        )
        paging = {h: v for h, v in response.headers.items() if h in ("link", "next-page-token")}
        return HTMLResponse(html, headers=paging)

    def _paged(session: SessionDep, page: PageRequest, response: Response, today: date) -> ListOut:
        """The list with one page of its parties (newest listing first, by party id)."""
        after = page.after_key(DAY, TEXT)
        found = listing(
            session,
            kind,
            today,
            before=None if after is None else (after[0], after[1]),
            limit=page.fetch,
        )
        found.parties = page.keyed(response, found.parties, lambda p: p.since, lambda p: p.party_id)
        return found

    r.add_api_route(
        f"{API}/lists/{kind.value}",
        read_json,
        methods=["GET"],
        summary=f"The {kind.value} list with reasons and dates (public); ``parties`` is paged",
        response_model=ListOut,
        responses=paged_responses(),
    )
    r.add_api_route(
        f"/lists/{kind.value}",
        read_page,
        methods=["GET"],
        summary=f"The {kind.value} list as a zh-CN page (public), one page of parties",
        response_class=HTMLResponse,
        responses=paged_responses(),
    )


def router(_: Settings) -> APIRouter:
    r = APIRouter(tags=["lists"])
    for kind in ListKind:
        _add(r, kind)
    return r
