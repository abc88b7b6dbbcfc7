"""EPCIS 2.0 REST binding: named queries (``/epcis/queries``) and their subscriptions.

Paths follow the binding under this repository's EPCIS root ``/epcis`` (as ``/epcis/events``
and ``/epcis/capture`` do): ``/queries``, ``/queries/{queryName}``,
``/queries/{queryName}/events``, ``/queries/{queryName}/subscriptions[/{subscriptionID}]``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, TIME, PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import PrincipalDep
from foodtrace.config import Settings
from foodtrace.epcis import responses
from foodtrace.epcis.subscription import service

QUERIES = "/epcis/queries"


class CreateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Unique query name", examples=["chilled-lot-A"])
    query: dict[str, Any] = Field(
        description="SimpleEventQuery parameters, as in GET /epcis/events",
        examples=[{"MATCH_anyEPCClass": ["urn:epc:class:lgtin:4012345.012345.LOTA"]}],
    )


class CreateSubscription(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dest: str = Field(description="Webhook URL (http or https, public address)")
    signatureToken: str | None = Field(
        default=None, max_length=256, description="Secret for the GS1-Signature HMAC"
    )
    reportIfEmpty: bool = False
    stream: bool = True
    schedule: dict[str, Any] | None = None
    initialRecordTime: datetime | None = None


def _problem(exc: service.SubscriptionError) -> Problem:
    return Problem(
        exc.status,
        exc.title,
        str(exc),
        problem_type("invalid-query" if exc.status == 400 else "subscription"),
        [FieldProblem(p, d) for p, d in exc.problems],
    )


def router(_: Settings) -> APIRouter:
    r = APIRouter(tags=["epcis"])

    @r.post(
        QUERIES,
        status_code=201,
        summary="Store a named query",
        responses={
            201: {"description": "The stored query"},
            **problem_responses(400, 401, 409, 422),
        },
    )
    def create_query(request: Request, body: CreateQuery, principal: PrincipalDep) -> JSONResponse:
        try:
            named = service.create_query(
                request.app.state.sessions, principal, body.name, body.query
            )
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        return JSONResponse(
            service.query_json(named),
            status_code=201,
            headers={"Location": f"{QUERIES}/{named.name}"},
        )

    @r.get(QUERIES, summary="Every named query", responses=paged_responses(401))
    def list_queries(
        session: SessionDep, _: PrincipalDep, page: PageDep, response: Response
    ) -> list[dict[str, Any]]:
        after = page.after_key(TEXT)
        named = service.list_queries(
            session, after=None if after is None else after[0], limit=page.fetch
        )
        return [service.query_json(q) for q in page.keyed(response, named, lambda q: q.name)]

    @r.get(QUERIES + "/{queryName}", summary="A named query", responses=problem_responses(401, 404))
    def get_query(queryName: str, session: SessionDep, _: PrincipalDep) -> dict[str, Any]:
        try:
            return service.query_json(service.get_query(session, queryName))
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc

    @r.delete(
        QUERIES + "/{queryName}",
        status_code=204,
        summary="Remove a named query and its subscriptions",
        responses=problem_responses(401, 403, 404),
    )
    def delete_query(queryName: str, request: Request, principal: PrincipalDep) -> Response:
        try:
            service.delete_query(request.app.state.sessions, principal, queryName)
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        return Response(status_code=204)

    @r.get(
        QUERIES + "/{queryName}/events",
        summary="Run a named query (paged like GET /epcis/events)",
        response_class=JSONResponse,
        responses={200: {"content": {responses.LD_JSON: {}}}, **problem_responses(400, 404, 413)},
    )
    def query_events(queryName: str, request: Request, session: SessionDep) -> JSONResponse:
        try:
            named = service.get_query(session, queryName)
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        parsed = responses.parse_pairs(service.query_pairs_of(named), {})
        return responses.page_response(request, session, parsed, named.name)

    @r.post(
        QUERIES + "/{queryName}/subscriptions",
        status_code=201,
        summary="Subscribe a webhook to a named query's new events",
        description=(
            "Each delivery is a POST of an EPCISQueryDocument to `dest`, signed in "
            "`GS1-Signature` (base64 HMAC-SHA256 of the body under `signatureToken`). "
            "Without `initialRecordTime` only events stored from now on are sent. Only "
            "`stream: true` subscriptions are supported (no `schedule`)."
        ),
        responses={
            201: {"description": "The subscription"},
            **problem_responses(401, 404, 422),
        },
    )
    def subscribe(
        queryName: str,
        body: CreateSubscription,
        request: Request,
        principal: PrincipalDep,
    ) -> JSONResponse:
        asked = service.SubscriptionRequest(
            dest=body.dest,
            signature_token=body.signatureToken,
            report_if_empty=body.reportIfEmpty,
            stream=body.stream,
            schedule=body.schedule,
            initial_record_time=body.initialRecordTime,
        )
        try:
            sub = service.subscribe(
                request.app.state.sessions,
                principal,
                queryName,
                asked,
                allow_loopback=request.app.state.settings.webhook_allow_loopback,
            )
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        return JSONResponse(
            service.subscription_json(sub),
            status_code=201,
            headers={"Location": f"{QUERIES}/{queryName}/subscriptions/{sub.id}"},
        )

    @r.get(
        QUERIES + "/{queryName}/subscriptions",
        summary="The caller's subscriptions to a named query",
        responses=paged_responses(401, 404),
    )
    def list_subscriptions(
        queryName: str,
        session: SessionDep,
        principal: PrincipalDep,
        page: PageDep,
        response: Response,
    ) -> list[dict[str, Any]]:
        after = page.after_key(TIME, TEXT)
        try:
            subs = service.list_subscriptions(
                session,
                principal,
                queryName,
                after=None if after is None else (after[0], after[1]),
                limit=page.fetch,
            )
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        subs = page.keyed(response, subs, lambda s: s.created_at, lambda s: s.id)
        return [service.subscription_json(s) for s in subs]

    @r.get(
        QUERIES + "/{queryName}/subscriptions/{subscriptionID}",
        summary="One subscription and its delivery state",
        responses=problem_responses(401, 404),
    )
    def get_subscription(
        queryName: str,
        subscriptionID: str,
        session: SessionDep,
        principal: PrincipalDep,
    ) -> dict[str, Any]:
        try:
            sub = service.get_subscription(session, principal, queryName, subscriptionID)
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        return service.subscription_json(sub)

    @r.delete(
        QUERIES + "/{queryName}/subscriptions/{subscriptionID}",
        status_code=204,
        summary="Unsubscribe",
        responses=problem_responses(401, 404),
    )
    def unsubscribe(
        queryName: str,
        subscriptionID: str,
        request: Request,
        principal: PrincipalDep,
    ) -> Response:
        try:
            service.unsubscribe(request.app.state.sessions, principal, queryName, subscriptionID)
        except service.SubscriptionError as exc:
            raise _problem(exc) from exc
        return Response(status_code=204)

    return r
