"""The order routes are matched in, apart from the order they are documented in.

Starlette matches a request against the app's routes one by one, and an included router
against every route it holds: a request for a route of the last area pays for a match
against every route before it (~140 of them, as much server time as the rest of a cached
resolver answer). Every scan asks the resolver and, on the embedded chain, ``/chain/rpc``,
so those areas are matched first. Their paths match no other area's route and no other
area's route matches theirs (``tests/api/test_api_matching.py``), so the order changes
which route answers nothing.

``app.routes``, and so the OpenAPI document, keeps the areas' order
(:func:`foodtrace.api.app.area_routers`): clients, the docs and the schemathesis runs
(``tests/security/test_openapi_*.py``, whose calls follow the document's order) see the
same document as before.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.routing import BaseRoute

# The areas whose routes are matched before every other area's: a scan's requests.
MATCHED_FIRST = ("foodtrace.ledger.views", "foodtrace.resolver.views")


def area_of(route: BaseRoute) -> str:
    """The module of the views that defined ``route`` (for an included router, of its
    first route)."""
    inner = getattr(route, "original_router", None)
    if inner is not None:
        return next((area_of(child) for child in inner.routes), "")
    return str(getattr(getattr(route, "endpoint", None), "__module__", ""))


class ScanFirstApp(FastAPI):
    """A FastAPI app that can match the :data:`MATCHED_FIRST` areas first while ``routes``
    (what the OpenAPI document and tools walk) stays in the order routes were added."""

    _documented: list[BaseRoute] | None = None

    @property
    def routes(self) -> list[BaseRoute]:
        matched = self.router.routes
        if self._documented is None:
            return matched
        return self._documented + [r for r in matched if r not in self._documented]

    def match_scans_first(self) -> None:
        """Move the :data:`MATCHED_FIRST` areas' routes to the front of the matching order
        (routes added later are matched, and documented, after these)."""
        documented = list(self.router.routes)
        first = [r for r in documented if area_of(r) in MATCHED_FIRST]
        self.router.routes[:] = first + [r for r in documented if r not in first]
        self._documented = documented
