"""Who may call every route of the app: the one table the authorisation matrix checks.

``MATRIX`` maps ``"METHOD /path"`` (the path exactly as the app declares it) to a
:class:`Rule`. The test enumerates the app's routes and fails for a route missing here, so a
new endpoint must be declared before the suite passes again: add a line, with the roles that
may call it, the owners of the object its path names (other parties of the same role are then
refused too) and, if the route needs one to reach its authorisation check, a request body.

Roles are the token roles of :class:`foodtrace.auth.models.Role`; ``anonymous`` is a request
without a token. Every party kind is tried (producer, processor, logistics, retailer and
restaurant all hold the ``producer`` role), so a rule naming ``producer`` admits all five.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "anonymous"
ROLES = ("regulator", "inspector", "lab", "producer")


@dataclass(frozen=True)
class Rule:
    """``allow``: the roles (and ``anonymous``) past the authorisation check; everyone else
    gets 401 (anonymous) or 403 (a token of another role), problem+json, nothing changed.

    ``owners``: actors (world names) owning the object the path names; a party of an
    owner's role that is not an owner is refused with ``other`` (404 where the route does
    not reveal that another party's object exists). ``parties``: actors admitted whatever
    their role (a party's own tokens: ``roles(R, parties=("restaurant",))``). ``params``
    maps a path placeholder to a world id when the names differ; ``query`` and ``body`` are
    sent as given, with ``{id}`` placeholders filled from the world and ``{me}`` from the
    calling party. ``session``: a workbench route behind a cookie session and CSRF token
    (tests/workbench checks who may use it once logged in): no bearer token admits anyone,
    every caller is sent to the login page (303) or refused (403), and nothing changes.
    """

    allow: frozenset[str]
    owners: tuple[str, ...] = ()
    other: int = 403
    parties: tuple[str, ...] = ()
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    content: bytes | None = None
    note: str = ""
    session: bool = False


def roles(*names: str, **kw: Any) -> Rule:
    unknown = set(names) - {*ROLES, ANONYMOUS}
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Rule(frozenset(names), **kw)


def public(**kw: Any) -> Rule:
    return roles(ANONYMOUS, *ROLES, **kw)


def session_only(**kw: Any) -> Rule:
    return Rule(frozenset(), session=True, **kw)


def any_token(**kw: Any) -> Rule:
    return roles(*ROLES, **kw)


R, I, L, P = ROLES  # noqa: E741 (regulator, inspector, lab, producer)
EMPTY: dict[str, Any] = {}
LOT = {"gtin": "gtin", "lot": "lot_code"}
GLN = {"element_id": "gln"}  # the restaurant's
GTIN = {"element_id": "gtin"}  # the farm's tomatoes
NAMED = {"attributes": {"name": "矩阵测试"}}
SUBJECT = {"party_id": "{me}"}
AFFECTED = ("processor", "restaurant")  # the demo recall's scope downstream of the farm

MATRIX: dict[str, Rule] = {
    # the framework's own pages
    "GET /openapi.json": public(),
    "GET /docs": public(),
    "GET /docs/oauth2-redirect": public(),
    "GET /static/resolver/{name}": public(params={"name": "static"}),
    # operations
    "GET /healthz": public(),
    "GET /metrics": public(note="aggregate counters only, no party or personal data"),
    # the log and its proofs
    "GET /api/v1/records/{index}": public(),
    "GET /api/v1/log/checkpoint": public(),
    "GET /api/v1/log/consistency": public(query={"first": "1", "second": "2"}),
    "GET /tlog/checkpoint": public(),
    "GET /tlog/tile/{path}": public(params={"path": "tile"}),
    "POST /chain/rpc": public(body={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}),
    "OPTIONS /chain/rpc": public(),
    # parties, keys, licences, prefixes
    "POST /api/v1/parties": roles(R, body=EMPTY),
    "POST /api/v1/enrolments": public(body=EMPTY),
    "POST /api/v1/parties/{party_id}/enrolment-codes": roles(R),
    "GET /api/v1/parties/{party_id}/tokens": roles(R, parties=("restaurant",)),
    "POST /api/v1/parties/{party_id}/tokens": roles(
        R, parties=("restaurant",), body={"name": "matrix"}
    ),
    "POST /api/v1/parties/{party_id}/tokens/{token_id}/rotate": roles(R, parties=("restaurant",)),
    "DELETE /api/v1/parties/{party_id}/tokens/{token_id}": roles(R, parties=("restaurant",)),
    "POST /api/v1/custodial-keys": any_token(body=SUBJECT),
    "POST /api/v1/party-keys": any_token(body=EMPTY),
    "POST /api/v1/party-keys/revocations": any_token(body=EMPTY),
    "POST /api/v1/licences": roles(R, body=EMPTY),
    "POST /api/v1/licences/revocations": roles(R, body=EMPTY),
    "GET /api/v1/parties/{party_id}": public(),
    "GET /api/v1/parties/{party_id}/licences": public(),
    "GET /api/v1/licences/{number}": public(params={"number": "licence"}),
    "POST /api/v1/prefixes": roles(R, body=EMPTY),
    "GET /api/v1/prefixes": public(),
    "GET /api/v1/prefixes/{prefix}": public(),
    # products and lots
    "POST /api/v1/products": roles(P, body=EMPTY),
    "POST /api/v1/lots": roles(P, body=EMPTY),
    "GET /api/v1/products/{gtin}": public(),
    "GET /api/v1/products/{gtin}/lots": public(),
    "GET /api/v1/lots/{gtin}/{lot_code}": public(),
    # trace (inspectors and regulators)
    "GET /api/v1/lots/{gtin}/{lot_code}/trace": roles(I, R),
    "GET /api/v1/parties/{party_id}/trace": roles(I, R),
    "GET /api/v1/ssccs/{sscc}/trace": roles(I, R),
    "GET /api/v1/transactions/trace": roles(I, R, query={"id": "urn:epcglobal:cbv:bt:1:po"}),
    # files, test reports, health certificates
    "POST /api/v1/blobs": roles(L, I, content=b"%PDF-1.4\n%%EOF\n"),
    "GET /api/v1/blobs/{sha256}": public(params={"sha256": "blob"}),
    "POST /api/v1/reports": roles(L, body=EMPTY),
    "GET /api/v1/reports/{report_number}": public(),
    "GET /api/v1/reports/{report_number}/pdf": public(),
    "GET /api/v1/lots/{gtin}/{lot_code}/reports": public(),
    "GET /api/v1/parties/{party_id}/reports": public(),
    "POST /api/v1/health-certificates": roles(P, body=EMPTY),
    "GET /api/v1/health-certificates/{number}": public(note="masked holder name only"),
    "GET /api/v1/parties/{party_id}/health-certificates": public(),
    "DELETE /api/v1/health-certificates/{number}/personal-data": roles(R),
    # grades, penalties, credit repair, inspections
    "GET /api/v1/parties/{party_id}/grades": public(),
    "POST /api/v1/grades/recompute": roles(R),
    "POST /api/v1/penalties": roles(R, body=EMPTY),
    "GET /api/v1/parties/{party_id}/penalties": public(),
    "POST /api/v1/complaint-findings": roles(I, R, body=EMPTY),
    "POST /api/v1/repairs": roles(P, body=SUBJECT),
    "POST /api/v1/repairs/{application_id}/decision": roles(
        R, body={"application_id": "{application_id}"}
    ),
    "GET /api/v1/repairs/{application_id}": public(),
    "GET /api/v1/inspections/schedule": roles(I, R),
    "GET /api/v1/parties/{party_id}/schedule": roles(I, R),
    "POST /api/v1/inspections": roles(I, body=EMPTY),
    "POST /api/v1/grades": roles(R, body=EMPTY),
    "GET /api/v1/inspections/{entry_index}": public(params={"entry_index": "index"}),
    "GET /api/v1/parties/{party_id}/inspections": public(),
    "GET /api/v1/parties/{party_id}/inspection-faces": public(),
    "GET /api/v1/inspections/unacknowledged": roles(I, R),
    "POST /api/v1/inspections/{entry_index}/ack": roles(
        P,
        R,
        params={"entry_index": "inspection"},
        body=EMPTY,
        note="the projector takes only the visited merchant's own acknowledgement, or the"
        " platform's for a confirmed code (tests/inspection)",
    ),
    "POST /api/v1/inspections/{entry_index}/confirm": public(
        params={"entry_index": "inspection"}, body={"code": "000000"}
    ),
    # grids and their owners (所社联动), alerts
    "POST /api/v1/grids": roles(R, body=EMPTY),
    "GET /api/v1/grids": roles(I, R),
    "POST /api/v1/grids/{grid_id}/businesses": roles(R, body=EMPTY),
    "GET /api/v1/grids/{grid_id}/businesses": roles(I, R),
    "GET /api/v1/grids/{grid_id}/dashboard": roles(I, R),
    "GET /api/v1/alerts": roles(I, R),
    "POST /api/v1/alerts/escalations": roles(I, R),
    "GET /api/v1/parties/{party_id}/alerts": roles(I, R, parties=("restaurant",)),
    # EPCIS
    "POST /epcis/capture": roles(P, I, R, body=EMPTY),
    "GET /epcis/capture/{capture_id}": any_token(owners=("farm",), other=404),
    "GET /epcis/events": public(),
    "GET /epcis/events/{event_id}": public(),
    "GET /epcis/lots/{lot}": public(params={"lot": "lot_code"}),
    "POST /epcis/queries": any_token(body=EMPTY),
    "GET /epcis/queries": any_token(),
    "GET /epcis/queries/{queryName}": any_token(),
    "DELETE /epcis/queries/{queryName}": any_token(owners=("farm",)),
    "GET /epcis/queries/{queryName}/events": public(),
    "POST /epcis/queries/{queryName}/subscriptions": any_token(body=EMPTY),
    "GET /epcis/queries/{queryName}/subscriptions": any_token(),
    "GET /epcis/queries/{queryName}/subscriptions/{subscriptionID}": any_token(
        owners=("farm",), other=404
    ),
    "DELETE /epcis/queries/{queryName}/subscriptions/{subscriptionID}": any_token(
        owners=("farm",), other=404
    ),
    "GET /epcis/vocabularies": public(),
    # master data
    "PUT /api/v1/masterdata/locations/{element_id}": roles(
        P, R, params=GLN, owners=("restaurant",), body=NAMED
    ),
    "GET /api/v1/masterdata/locations/{element_id}": public(params=GLN),
    "PUT /api/v1/masterdata/products/{element_id}": roles(
        P, R, params=GTIN, owners=("farm",), body=NAMED
    ),
    "GET /api/v1/masterdata/products/{element_id}": public(params=GTIN),
    "PUT /api/v1/masterdata/parties/{element_id}": roles(
        P, R, params=GLN, owners=("restaurant",), body=NAMED
    ),
    "GET /api/v1/masterdata/parties/{element_id}": public(params=GLN),
    "GET /api/v1/masterdata": public(),
    # FSMA 204 sheets
    "GET /api/v1/lots/{gtin}/{lot_code}/fsma204.{fmt}": public(),
    "GET /api/v1/fsma204.{fmt}": public(query={"start": "2020-01-01", "end": "2040-01-01"}),
    # recalls
    "POST /api/v1/recalls": roles(P, R, body=EMPTY),
    "GET /api/v1/recalls": public(),
    "GET /api/v1/recalls/{recall_id}": public(note="recall notices are public (召回公告)"),
    "POST /api/v1/recalls/{recall_id}/acknowledgements": roles(P, body=EMPTY, owners=AFFECTED),
    "POST /api/v1/recalls/{recall_id}/reports": roles(
        P,
        owners=AFFECTED,
        body={"items": [{"gtin": "{gtin}", "lot_code": "{lot_code}", "recovered": 1}]},
    ),
    "POST /api/v1/recalls/{recall_id}/close": roles(R, body=EMPTY),
    "GET /api/v1/recalls/{recall_id}/scope.csv": public(),
    "GET /api/v1/recalls/{recall_id}/scope.xlsx": public(),
    "GET /recalls/{recall_id}": public(),
    # complaints (12315)
    "POST /api/v1/complaints": public(body=EMPTY),
    "GET /api/v1/complaints/{tracking_number}": public(note="status only, no personal data"),
    "GET /api/v1/complaints": roles(I, R),
    "POST /api/v1/complaints/{tracking_number}/updates": roles(I, R, body=EMPTY),
    "DELETE /api/v1/complaints/{tracking_number}/contact": roles(R),
    "DELETE /api/v1/complaints/{tracking_number}/personal-data": roles(R),
    "GET /api/v1/complaints/{tracking_number}/owners": roles(I, R),
    "GET /api/v1/complaints-owned": roles(I, R),
    "POST /api/v1/complaints/{tracking_number}/confirmations": roles(I, body=EMPTY),
    "POST /api/v1/complaints/{tracking_number}/rating": public(body=EMPTY),
    "POST /api/v1/complaints/escalations": roles(I, R),
    # draws (双随机)
    "POST /api/v1/draws/proposals": roles(R, body=EMPTY),
    "POST /api/v1/draws": roles(R, body=EMPTY),
    "POST /api/v1/draws/{draw_id}/result": roles(R, body=EMPTY),
    "GET /api/v1/draws": public(),
    "GET /api/v1/draws/{draw_id}": public(),
    # scans and codes
    "GET /api/v1/scan/suspects": roles(I, R),
    "POST /api/v1/scan/suspects/clear": roles(I, R, body=EMPTY),
    "GET /api/v1/codes/merchants/{party_id}": roles(R),
    "GET /api/v1/codes/lots/{gtin}/{lot}": roles(P, R, params=LOT, owners=("farm",)),
    "POST /api/v1/codes/lots/{gtin}/{lot}/serials": roles(
        P, R, params=LOT, owners=("farm",), body={"count": 1}
    ),
    "GET /api/v1/codes/lots/{gtin}/{lot}/serials": roles(P, R, params=LOT, owners=("farm",)),
    "POST /api/v1/codes/sheet": roles(
        P, R, owners=("farm",), body={"codes": [{"gtin": "{gtin}", "lot": "{lot_code}"}]}
    ),
    # red and black lists
    "GET /api/v1/lists/red": public(),
    "GET /lists/red": public(),
    "GET /api/v1/lists/black": public(),
    "GET /lists/black": public(),
    # the inspector's workbench (cookie sessions and CSRF tokens, not bearer tokens)
    "GET /workbench/login": public(),
    "GET /workbench/static/{name}": public(params={"name": "workbench_css"}),
    "GET /workbench/confirm/{entry_index}": public(
        params={"entry_index": "inspection"}, note="the merchant's code form for a visit"
    ),
    "POST /workbench/login": session_only(),
    "POST /workbench/logout": session_only(),
    "POST /workbench/confirm/{entry_index}": session_only(params={"entry_index": "inspection"}),
    "GET /workbench/": session_only(),
    "GET /workbench/alerts": session_only(),
    "GET /workbench/complaints": session_only(),
    "POST /workbench/complaints/{tracking_number}/answer": session_only(),
    "POST /workbench/complaints/{tracking_number}/confirm": session_only(),
    "GET /workbench/inspections/new": session_only(),
    "POST /workbench/inspections": session_only(),
    "GET /workbench/inspections/{entry_index}": session_only(params={"entry_index": "inspection"}),
    "GET /workbench/schedule": session_only(),
    "GET /workbench/street": session_only(),
    "POST /workbench/street": session_only(),
    "GET /workbench/street/{party_id}/label.png": session_only(),
    "GET /workbench/trace": session_only(),
    "GET /workbench/trace/lot": session_only(),
    # 食安码 pages
    "GET /M/{merchant_id}": public(params={"merchant_id": "party_id"}),
    "GET /01/{gtin}/10/{lot}": public(params={"lot": "lot_code"}),
    "GET /01/{gtin}/21/{serial}": public(params={"serial": "serial"}),
}

DESTRUCTIVE = frozenset(
    {
        "POST /api/v1/recalls/{recall_id}/close",
        "POST /api/v1/parties/{party_id}/tokens/{token_id}/rotate",
        "DELETE /api/v1/parties/{party_id}/tokens/{token_id}",
        "DELETE /epcis/queries/{queryName}",
        "DELETE /epcis/queries/{queryName}/subscriptions/{subscriptionID}",
        "DELETE /api/v1/health-certificates/{number}/personal-data",
        "DELETE /api/v1/complaints/{tracking_number}/contact",
        "DELETE /api/v1/complaints/{tracking_number}/personal-data",
    }
)
"""Routes whose allowed call removes the object others name: tried after all the rest."""
