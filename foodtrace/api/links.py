"""OpenAPI links (3.1 §4.8.20) for the main flows: which answer's values a client feeds
into which next request. They document the flows for client authors and let stateful
schemathesis (``tests/security/test_openapi_stateful.py``) chain real calls instead of
guessing ids: party registration → enrolment code → enrolment (token); EPCIS capture →
its job → its events; complaint → its status, its answer.

One table here, rather than in each router, because a link names two operations that
usually live in different areas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

Link = dict[str, Any]
LinkTable = dict[tuple[str, str, str], dict[str, Link]]


def _to(path: str, method: str, description: str, **link: Any) -> Link:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "description": description, **link}


_CAPTURE_ID = {"capture_id": "$response.body#/captureID"}
_TRACKING = {"tracking_number": "$response.body#/tracking_number"}

LINKS: Final[LinkTable] = {
    ("/api/v1/parties", "post", "201"): {
        "GetParty": _to(
            "/api/v1/parties/{party_id}",
            "get",
            "The registered party",
            parameters={"party_id": "$response.body#/party/party_id"},
        ),
        "Enrol": _to(
            "/api/v1/enrolments",
            "post",
            "The party enrols with the one-time code it was given",
            requestBody={
                "party_id": "$response.body#/party/party_id",
                "code": "$response.body#/enrolment_code",
            },
        ),
    },
    ("/api/v1/parties/{party_id}/enrolment-codes", "post", "201"): {
        "Enrol": _to(
            "/api/v1/enrolments",
            "post",
            "The party enrols with the new code",
            requestBody={
                "party_id": "$response.body#/party_id",
                "code": "$response.body#/enrolment_code",
            },
        ),
    },
    ("/epcis/capture", "post", "202"): {
        "GetCaptureJob": _to(
            "/epcis/capture/{capture_id}", "get", "The capture job", parameters=_CAPTURE_ID
        ),
        "GetFirstEvent": _to(
            "/epcis/events/{event_id}",
            "get",
            "The document's first event, with its proof",
            parameters={"event_id": "$response.body#/eventIDs/0"},
        ),
    },
    ("/api/v1/complaints", "post", "201"): {
        "GetComplaint": _to(
            "/api/v1/complaints/{tracking_number}",
            "get",
            "The complaint's public status",
            parameters=_TRACKING,
        ),
        "AnswerComplaint": _to(
            "/api/v1/complaints/{tracking_number}/updates",
            "post",
            "A regulator answers the complaint",
            parameters=_TRACKING,
        ),
        "GetOwners": _to(
            "/api/v1/complaints/{tracking_number}/owners",
            "get",
            "Who owns the complaint",
            parameters=_TRACKING,
        ),
    },
}


def with_links(document: dict[str, Any], table: LinkTable = LINKS) -> dict[str, Any]:
    """``document`` with the table's links on the responses it declares (in place). A link
    whose source or target operation is missing is an error: the table went stale."""
    paths = document["paths"]
    for (path, method, status), links in table.items():
        response = paths[path][method]["responses"][status]
        for name, link in links.items():
            target = link["operationRef"].removeprefix("#/paths/")
            at, verb = target.rsplit("/", 1)
            if verb not in paths.get(at.replace("~1", "/").replace("~0", "~"), {}):
                raise KeyError(f"link {name} of {method.upper()} {path}: no operation {target}")
        response.setdefault("links", {}).update(links)
    return document


def linked_openapi(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Wrap FastAPI's ``app.openapi`` so the served document carries :data:`LINKS`."""
    done: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        if "document" not in done:
            done["document"] = with_links(build())
        return done["document"]

    return openapi
