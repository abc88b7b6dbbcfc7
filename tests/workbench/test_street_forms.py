"""The 扫街纳管 form's pure core: degrees checked field by field, the body it asks for, and
an entry's problem moved back to the form field it came from."""

from __future__ import annotations

import pytest

from foodtrace.workbench.street_forms import degrees, form_pointer, registration_body

FORM = {
    "small": "小作坊",
    "name": " 老街豆腐坊 ",
    "credit_code": "913101000006ma1k41",
    "address": "",
    "lat": "31.1234567",
    "lng": "-121.5",
    "grid_id": "g-1",
}


def test_the_body_carries_the_position_not_the_address() -> None:
    body, problems = registration_body(FORM, {"g-1"})
    assert problems == []
    assert body == {
        "party_id": "913101000006MA1K41",
        "name": "老街豆腐坊",
        "kind": "processor",
        "credit_code": "913101000006MA1K41",
        "grid": "g-1",
        "position": {"lat": 31.123457, "lng": -121.5},  # to 6 decimals
    }  # an empty address is left out


@pytest.mark.parametrize(
    ("field", "text", "expected"),
    [
        ("lat", "90", 90.0),
        ("lat", "-90", -90.0),
        ("lng", " 180 ", 180.0),
        ("lng", "-180", -180.0),
        ("lat", "90.0000001", None),
        ("lng", "-180.5", None),
        ("lat", "", None),
        ("lng", "东经121", None),
        ("lat", "nan", None),
        ("lng", "-inf", None),
    ],
)
def test_degrees_in_range_or_a_problem_at_the_field(
    field: str, text: str, expected: float | None
) -> None:
    value, problems = degrees({field: text}, field)
    assert value == expected
    assert [p.pointer for p in problems] == ([] if expected is not None else [f"/form/{field}"])


def test_every_problem_of_the_form_at_once_each_at_its_field() -> None:
    form = {**FORM, "small": "大饭店", "lat": "x", "lng": "200", "grid_id": "g-2"}
    body, problems = registration_body(form, {"g-1"})
    assert [p.pointer for p in problems] == [
        "/form/small",
        "/form/lat",
        "/form/lng",
        "/form/grid_id",
    ]
    assert "latitude" in problems[1].detail and "longitude" in problems[2].detail
    assert "position" not in body


@pytest.mark.parametrize(
    ("pointer", "field"),
    [
        ("/body/position/lat", "/form/lat"),
        ("/body/position/lng", "/form/lng"),
        ("/body/shopfront_photo", "/form/photo"),
        ("/body/party_id", "/form/credit_code"),
        ("/body/party_ids/0", "/form/credit_code"),
        ("/body/kind", "/form/small"),
        ("/body/name", "/form/name"),
        ("/body/grid_id", "/form/grid_id"),
        ("", ""),
    ],
)
def test_an_entry_problem_goes_back_to_its_form_field(pointer: str, field: str) -> None:
    assert form_pointer(pointer) == field
