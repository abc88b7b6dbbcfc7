"""The pure visit rules: faces, the annual face, re-inspection, the one-time code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from foodtrace.inspection import rules
from foodtrace.inspection.schemas import Face, InspectionResult

PASS, MINOR, FAIL = InspectionResult.PASS, InspectionResult.MINOR, InspectionResult.FAIL
TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(("result", "face"), [(PASS, "良好"), (MINOR, "一般"), (FAIL, "较差")])
def test_each_result_has_its_face(result: InspectionResult, face: str) -> None:
    assert rules.dynamic_face(result) == Face(face)


def test_annual_face_is_the_mean_of_the_last_12_months() -> None:
    d = TODAY - timedelta(days=30)
    assert rules.annual_face([], TODAY) is None
    assert rules.annual_face([(d, PASS), (d, PASS), (d, MINOR)], TODAY) is Face.GOOD  # 5/3
    assert rules.annual_face([(d, PASS), (d, FAIL)], TODAY) is Face.FAIR  # 1.0
    assert rules.annual_face([(d, MINOR), (d, FAIL), (d, FAIL)], TODAY) is Face.POOR  # 1/3
    # a visit 365 days back has left the window; one in the future is not counted yet
    old, future = TODAY - timedelta(days=365), TODAY + timedelta(days=1)
    assert rules.annual_face([(old, FAIL), (future, FAIL), (d, PASS)], TODAY) is Face.GOOD
    assert rules.annual_face([(old, PASS)], TODAY) is None


def test_only_a_failed_visit_is_inspected_again() -> None:
    on = date(2026, 3, 5)
    assert rules.reinspection_due(PASS, on, [date(2026, 3, 10)]) is None
    assert rules.reinspection_due(MINOR, on, []) is None
    assert rules.reinspection_due(FAIL, on, []) == on + timedelta(days=rules.REINSPECTION_DAYS)
    late = [date(2026, 3, 12), date(2026, 3, 20)]
    assert rules.reinspection_due(FAIL, on, late) == date(2026, 3, 21)


def _stored(code: str, now: datetime, **kw: object) -> rules.StoredCode:
    salt = b"s" * 16
    args: dict[str, object] = {
        "code_hash": rules.hash_code(code, salt),
        "salt": salt,
        "expires_at": now + rules.CODE_TTL,
        "attempts": 0,
        "used_at": None,
    }
    args.update(kw)
    return rules.StoredCode(**args)  # type: ignore[arg-type]


def test_code_checks_only_once_unexpired_and_right() -> None:
    now = datetime(2026, 3, 5, 10, tzinfo=UTC)
    rules.check_code(_stored("123456", now), "123456", now)  # no exception
    with pytest.raises(rules.CodeRefused, match="wrong code"):
        rules.check_code(_stored("123456", now), "654321", now)
    with pytest.raises(rules.CodeRefused, match="expired"):
        rules.check_code(_stored("123456", now), "123456", now + rules.CODE_TTL + timedelta(0, 1))
    with pytest.raises(rules.CodeRefused, match="already used"):
        rules.check_code(_stored("123456", now, used_at=now), "123456", now)
    with pytest.raises(rules.CodeRefused, match="void"):
        rules.check_code(_stored("123456", now, attempts=rules.CODE_ATTEMPTS), "123456", now)


def test_codes_have_six_digits() -> None:
    assert rules.new_code(lambda n: 42) == "000042"
    assert len(rules.new_code()) == rules.CODE_DIGITS
