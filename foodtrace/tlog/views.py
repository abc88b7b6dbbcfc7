"""``/tlog/``: the log in the C2SP tlog-tiles layout, for any tiles client, cache or CDN.

The same bytes as ``foodtrace tlog export``; a static server of that directory answers the
same paths. Errors are problem+json like the rest of the API (a static server answers its
own 404 instead; tiles clients only look at the status).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from foodtrace.api.problems import Problem, problem_responses, problem_type
from foodtrace.config import Settings
from foodtrace.record.views import LogDep
from foodtrace.tlog import service
from foodtrace.tlog.service import TileNotFound
from foodtrace.trace import tlog_tiles
from foodtrace.trace.tlog_tiles import BundleEntryTooLarge, TilePathError

PREFIX = "/tlog"
CHECKPOINT_MEDIA_TYPE = "text/plain; charset=utf-8"
TILE_MEDIA_TYPE = "application/octet-stream"

_TILE_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The hash tile (32-byte hashes) or entry bundle (uint16-length-"
        "prefixed leaf data); full tiles are cacheable forever",
        "content": {TILE_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    **problem_responses(404, 500),
}
_CHECKPOINT_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The C2SP signed-note checkpoint (origin, size, root, signature)",
        "content": {CHECKPOINT_MEDIA_TYPE: {"schema": {"type": "string"}}},
    },
    **problem_responses(500),
}


def router(_: Settings) -> APIRouter:
    r = APIRouter(prefix=PREFIX, tags=["tlog"])

    @r.get(
        "/checkpoint",
        summary="The latest signed checkpoint (tlog-tiles)",
        response_class=Response,
        responses=_CHECKPOINT_DOC,
    )
    def checkpoint(log: LogDep) -> Response:
        cp = service.current_checkpoint(log)
        return Response(
            cp.note.encode(),
            media_type=CHECKPOINT_MEDIA_TYPE,
            headers={"Cache-Control": service.CHECKPOINT_CACHE_CONTROL},
        )

    @r.get(
        "/tile/{path:path}",
        summary="A hash tile tile/<L>/<N>[.p/<W>] or entry bundle tile/entries/<N>[.p/<W>]",
        response_class=Response,
        responses=_TILE_DOC,
    )
    def tile(log: LogDep, path: str) -> Response:
        try:
            ref = tlog_tiles.parse_path(f"tile/{path}")
            body = service.read(log, ref)
        except (TilePathError, TileNotFound) as exc:
            raise Problem(404, "Not Found", str(exc), problem_type("not-found")) from exc
        except BundleEntryTooLarge as exc:
            raise Problem(
                500, "Entry too large for a bundle", str(exc), problem_type("tiles-entry-size")
            ) from exc
        return Response(
            body.content,
            media_type=TILE_MEDIA_TYPE,
            headers={"Cache-Control": service.cache_control(body)},
        )

    return r
