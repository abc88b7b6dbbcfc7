"""Turning the 扫街纳管 form into the bodies of its entries, and their problems back into
the form's fields (pure: no database, no HTTP)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from foodtrace.api.problems import FieldProblem

SMALL: Final = {"小餐饮": "restaurant", "小食杂": "retailer", "小作坊": "processor"}
"""The three small kinds of business (三小场所) and the party kind each is registered as."""
RANGES: Final = {"lat": ("latitude", 90.0), "lng": ("longitude", 180.0)}
DECIMALS: Final = 6
"""Degrees are kept to 6 decimals (about 0.1 m), more than a phone's fix is worth."""
FORM_FIELD: Final = {
    "/body/party_id": "/form/credit_code",
    "/body/party_ids/0": "/form/credit_code",
    "/body/kind": "/form/small",
    "/body/position/lat": "/form/lat",
    "/body/position/lng": "/form/lng",
    "/body/shopfront_photo": "/form/photo",
}


def degrees(form: Mapping[str, str], field: str) -> tuple[float | None, list[FieldProblem]]:
    """The form's ``lat`` or ``lng`` as degrees, or the problem with it, at its own field."""
    what, bound = RANGES[field]
    text = form.get(field, "").strip()
    at = f"/form/{field}"
    if not text:
        return None, [FieldProblem(at, f"expected the {what} in degrees")]
    try:
        value = float(text)
    except ValueError:
        return None, [FieldProblem(at, f"expected the {what} in degrees, got {text[:40]!r}")]
    if not math.isfinite(value) or not -bound <= value <= bound:
        return None, [FieldProblem(at, f"expected a {what} from {-bound:g} to {bound:g}")]
    return round(value, DECIMALS), []


def registration_body(
    form: Mapping[str, str], grids: set[str]
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The ``party.register`` body the form asks for (the shopfront photo is added once it
    is stored), and every problem of the form; ``grids``: those the registrar may choose."""
    problems = []
    kind = SMALL.get(form.get("small", ""))
    if kind is None:
        problems.append(FieldProblem("/form/small", f"choose {', '.join(SMALL)}"))
    lat, lat_problems = degrees(form, "lat")
    lng, lng_problems = degrees(form, "lng")
    problems += lat_problems + lng_problems
    grid_id = form.get("grid_id", "")
    if grid_id not in grids:
        problems.append(FieldProblem("/form/grid_id", "choose one of your grids"))
    code = form.get("credit_code", "").strip().upper()
    body: dict[str, Any] = {
        "party_id": code,
        "name": form.get("name", "").strip(),
        "kind": kind,
        "credit_code": code,
        "grid": grid_id,
    }
    if address := form.get("address", "").strip():
        body["address"] = address
    if lat is not None and lng is not None:
        body["position"] = {"lat": lat, "lng": lng}
    return body, problems


def form_pointer(pointer: str) -> str:
    """Where on the form an entry's problem belongs (``/body/position/lat`` is the
    ``lat`` field); a field the form shows under the same name keeps it."""
    if pointer in FORM_FIELD:
        return FORM_FIELD[pointer]
    return "/form" + pointer.removeprefix("/body") if pointer.startswith("/body") else pointer
