"""Turning the workbench's form fields into the bodies the API's entries take (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from foodtrace.api.problems import FieldProblem
from foodtrace.inspection.schemas import InspectionResult, ItemResult

CHECKLIST: Final = (
    "许可证公示",
    "从业人员健康证明",
    "原料进货查验记录",
    "冷藏冷冻设施温度",
    "加工经营场所环境卫生",
)
"""The items the inspection form asks about (the 日常监督检查要点 a field visit covers)."""
MAX_PHOTOS: Final = 6
MAX_TEXT: Final = 2000


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def inspection_body(
    form: Mapping[str, str], photos: list[str], today: date
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """The ``inspection.record`` body the form describes, and the form's own problems
    (the entry's schema checks the rest on the write path)."""
    problems: list[FieldProblem] = []
    result = form.get("result", "")
    if result not in {r.value for r in InspectionResult}:
        problems.append(FieldProblem("/form/result", "choose 合格, 基本合格 or 不合格"))
    checklist = []
    for n, item in enumerate(CHECKLIST):
        value = form.get(f"item{n}", ItemResult.NOT_APPLICABLE.value)
        if value not in {r.value for r in ItemResult}:
            problems.append(FieldProblem(f"/form/item{n}", "choose 符合, 不符合 or 不适用"))
            continue
        checklist.append({"item": item, "result": value})
    findings = _lines(form.get("findings", "")[: MAX_TEXT * 4])
    body: dict[str, Any] = {
        "party_id": form.get("party_id", ""),
        "inspected_on": today.isoformat(),
        "result": result,
        "findings": findings,
        "photos": photos,
        "checklist": checklist,
        "corrective_actions": [],
    }
    action, deadline = form.get("action", "").strip(), form.get("deadline", "").strip()
    if action or deadline:
        try:
            due = date.fromisoformat(deadline)
        except ValueError:
            problems.append(FieldProblem("/form/deadline", "expected a date, YYYY-MM-DD"))
        else:
            if due < today:
                problems.append(FieldProblem("/form/deadline", "expected today or later"))
            body["corrective_actions"] = [{"action": action, "deadline": due.isoformat()}]
    return body, problems


def entry_pointer_to_form(pointer: str) -> str:
    """``/body/x`` of a refused write as the form field it came from (``/form/x``)."""
    return "/form" + pointer[len("/body") :] if pointer.startswith("/body") else pointer
