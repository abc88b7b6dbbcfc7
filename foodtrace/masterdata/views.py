"""Routes for master data: describe a site, product or party (``PUT``), read it back, query,
and the EPCIS form ``GET /epcis/vocabularies``. Writes need a token; reads are public.

An element is named in the path by its GS1 key: a 13-digit GLN (or 14-digit GTIN), an EPC
URN or a Digital Link (URL-encoded), all reduced to the canonical Digital Link it is kept
under.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from foodtrace.api.app import SessionDep
from foodtrace.api.paging import TEXT, PageDep, paged_responses
from foodtrace.api.problems import FieldProblem, Problem, problem_responses, problem_type
from foodtrace.auth.deps import PrincipalDep
from foodtrace.config import Settings
from foodtrace.masterdata import service
from foodtrace.masterdata.schemas import BODIES, ElementOut
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
from foodtrace.trace.epcis import masterdata

IdPath = Annotated[
    str,
    Path(
        description="GLN/GTIN digits, EPC URN or Digital Link (URL-encoded)",
        examples=["6901234000017"],
    ),
]
PLURAL: Final = {"locations": masterdata.LOCATION, "products": masterdata.PRODUCT,
                 "parties": masterdata.PARTY}  # fmt: skip
SUMMARY: Final = {masterdata.LOCATION: "a site (GLN/SGLN)", masterdata.PRODUCT: "a product (GTIN)",
                  masterdata.PARTY: "a party (party GLN)"}  # fmt: skip
LD_JSON: Final = "application/ld+json"
EPCIS_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def canonical_or_404(kind: str, identifier: str) -> str:
    found = masterdata.canonical_id(kind, identifier)
    if found is None:
        raise Problem(
            404,
            "Not Found",
            f"{identifier!r} is not the GS1 key of a {kind}.",
            problem_type("not-found"),
        )
    return found


def _with_id(payload: dict[str, Any], element_id: str) -> dict[str, Any]:
    """The write request with the element's id from the path: a plain body gets it, a
    signed entry must already carry it."""
    if "entry" in payload:
        entry = payload["entry"]
        body = entry.get("body") if isinstance(entry, dict) else None
        given = body.get("id") if isinstance(body, dict) else None
        if given != element_id:
            raise Problem(
                422,
                "Invalid entries",
                "Nothing was written: 1 problem",
                problem_type("invalid-entry"),
                [FieldProblem("/body/entry/body/id", f"expected {element_id} (the path's id)")],
            )
        return payload
    if "id" in payload and payload["id"] != element_id:
        raise Problem(
            422,
            "Invalid entries",
            "Nothing was written: 1 problem",
            problem_type("invalid-entry"),
            [FieldProblem("/body/id", f"expected {element_id} (the path's id) or no id")],
        )
    return {**payload, "id": element_id}


def router(_: Settings) -> APIRouter:
    r = APIRouter(tags=["masterdata"])

    for plural, kind in PLURAL.items():
        _element_routes(r, plural, kind)

    @r.get(
        API + "/masterdata",
        summary="Query master data by kind and id",
        response_model=list[ElementOut],
        responses=paged_responses(422),
    )
    def query_masterdata(
        session: SessionDep,
        page: PageDep,
        response: Response,
        type: Annotated[
            list[str] | None,
            Query(description="location, product or party (repeatable)", examples=["location"]),
        ] = None,
        id: Annotated[
            list[str] | None, Query(description="GS1 key in any form (repeatable)")
        ] = None,
    ) -> Any:
        kinds = _kinds(type)
        after = page.after_key(TEXT, TEXT)
        found = service.find(
            session,
            kinds=kinds,
            ids=_ids(kinds, id or []),
            after=None if after is None else (after[0], after[1]),
            limit=page.fetch,
        )
        return page.keyed(response, found, lambda e: e.kind, lambda e: e.id)

    @r.get(
        "/epcis/vocabularies",
        summary="Master data as EPCIS 2.0 epcisMasterData (vocabularyList)",
        description=(
            "The EPCIS 2.0 REST binding has no master data resource; this answers with the "
            "shape a document's header carries: `epcisHeader.epcisMasterData.vocabularyList`, "
            "attributes as CBV master data URIs (`urn:epcglobal:cbv:mda#name`). Filter with "
            "`type` (location/product/party or a vocabulary type URN) and `id`. Public."
        ),
        response_class=JSONResponse,
        responses={200: {"content": {LD_JSON: {}}}, **problem_responses(422)},
    )
    def vocabularies(
        session: SessionDep,
        type: Annotated[list[str] | None, Query()] = None,
        id: Annotated[list[str] | None, Query()] = None,
    ) -> JSONResponse:
        kinds = _kinds(type)
        found = service.find(session, kinds=kinds, ids=_ids(kinds, id or []))
        return JSONResponse(
            {
                "@context": [EPCIS_CONTEXT],
                "type": "EPCISMasterDataDocument",
                "schemaVersion": "2.0",
                "epcisHeader": {
                    "epcisMasterData": {"vocabularyList": service.vocabulary_list(found)}
                },
            },
            media_type=LD_JSON,
        )

    return r


def _kinds(given: list[str] | None) -> tuple[str, ...]:
    if not given:
        return masterdata.KINDS
    out = []
    problems = []
    for i, value in enumerate(given):
        kind = value if value in masterdata.KINDS else masterdata.kind_of(value)
        if kind is None:
            problems.append(
                FieldProblem(
                    f"/query/type/{i}",
                    f"expected one of {', '.join(masterdata.KINDS)} or a vocabulary type "
                    f"URN ({masterdata.VTYPE_PREFIX}BusinessLocation…), got {value!r}",
                )
            )
        else:
            out.append(kind)
    if problems:
        raise Problem(
            422,
            "Invalid query",
            "Unknown master data type",
            problem_type("invalid-query"),
            problems,
        )
    return tuple(out)


def _ids(kinds: tuple[str, ...], given: list[str]) -> list[str]:
    return sorted(
        {found for g in given for k in kinds if (found := masterdata.canonical_id(k, g))}
        | set(given)
    )


def _element_routes(r: APIRouter, plural: str, kind: str) -> None:
    body_model = BODIES[kind]
    example = body_model.model_json_schema()["examples"][0]
    entry_type = service.ENTRY_TYPES[kind]

    @r.put(
        f"{API}/masterdata/{plural}/{{element_id:path}}",
        summary=f"Describe {SUMMARY[kind]} (its own party, or a regulator)",
        description=(
            f"Records a signed `{entry_type}` entry: a plain body "
            '(`{"attributes": {…}}`, signed with the party\'s server-held key) or '
            '`{"entry": …}` signed by the client. The latest description wins. A party may '
            "describe only its own GLN's sites and the GTINs it registered (403 otherwise)."
        ),
        response_model=Recorded[ElementOut],
        openapi_extra=write_openapi(body_model, example),
        responses=problem_responses(401, 403, 404, 409, 422),
        name=f"put_{kind}",
    )
    def put_element(
        request: Request, principal: PrincipalDep, element_id: IdPath, payload: Payload
    ) -> Any:
        canonical = canonical_or_404(kind, element_id)
        ref = write(request, principal, entry_type, _with_id(payload, canonical))
        with sessions(request)() as session:
            stored = service.get_element(session, kind, canonical)
        return recorded(get_log(request), stored, ref.index)

    @r.get(
        f"{API}/masterdata/{plural}/{{element_id:path}}",
        summary=f"The recorded description of {SUMMARY[kind]}, with its proof",
        response_model=Recorded[ElementOut],
        responses=problem_responses(404),
        name=f"get_{kind}",
    )
    def get_element(log: LogDep, session: SessionDep, element_id: IdPath) -> Any:
        canonical = canonical_or_404(kind, element_id)
        stored = service.get_element(session, kind, canonical)
        if stored is None:
            raise not_found(f"Master data of {canonical}")
        return recorded(log, stored, stored.entry_index)
