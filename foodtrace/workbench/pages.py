"""Rendering the workbench's pages: templates, the CSRF field, problems listed by field."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Final

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from foodtrace.api.problems import FieldProblem, Problem, problem_responses

PREFIX: Final = "/workbench"
STATIC: Final = {"workbench.css": "text/css; charset=utf-8"}
HTML: Final[dict[str, Any]] = {"content": {"text/html": {}}, "description": "a zh-CN page"}
TO_LOGIN: Final[dict[str, Any]] = {"description": "not logged in: to /workbench/login"}
DONE: Final[dict[str, Any]] = {"description": "done: to the page that shows the result"}
# A form the service refused is shown again (HTML); a malformed path is refused before any
# page is built, as problem+json like every other route's.
INVALID: Final[dict[str, Any]] = {
    "description": "a refused form (the page again) or a malformed path (problem+json)",
    "content": {"text/html": {}, **problem_responses(422)[422]["content"]},
}


@cache
def env() -> Environment:
    e = Environment(
        loader=PackageLoader("foodtrace.workbench", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.globals["prefix"] = PREFIX
    return e


@cache
def static_file(name: str) -> bytes:
    return resources.files("foodtrace.workbench").joinpath("static", name).read_bytes()


def html(name: str, **context: Any) -> str:
    return env().get_template(name).render(**context)


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(html(name, **context), status_code=status)


def problems_of(problem: Problem) -> list[FieldProblem]:
    """Every problem a refused write names, or its detail when it names none."""
    if problem.errors:
        return list(problem.errors)
    return [FieldProblem("", problem.detail or problem.title)]


def refused(title: str, detail: str, status: int = 403) -> HTMLResponse:
    return render("refused.html", status, title=title, detail=detail)
