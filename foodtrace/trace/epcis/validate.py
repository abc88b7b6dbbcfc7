"""Validate an EPCIS 2.0 document against the official GS1 JSON Schema plus CBV 2.0 checks.

The schema (draft-07) is the GS1 file shipped in ``data/``; its ``$ref``s are all local
fragments, and the remote JSON-LD ``@context`` is never fetched (validation does not need
it; :data:`CONTEXT_URLS` maps the context URLs documents use to the local copy). jsonschema
only checks ``format`` when given a format checker, and its stock ``uri`` / ``date-time``
checkers need optional packages, so both are defined here: without them the schema would
accept ``"bizStep": "shippping"`` as a "custom URI".

The CBV checks give a precise message where the schema can only say "not valid under any of
the given schemas", and accept the EPCIS 1.x URN spelling of standard values
(``urn:epcglobal:cbv:bizstep:shipping``), which the JSON Schema alone rejects although it is
the same term. Every problem carries a JSON pointer to the field.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, Final

import jsonschema_rs
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from foodtrace.trace.epcis import vocab

CONTEXT_URLS: Final = (
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
)
DOCUMENT_TYPES: Final = ("EPCISDocument", "EPCISQueryDocument")
EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransformationEvent",
    "TransactionEvent",
    "AssociationEvent",
)
_TIME_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_REQUIRED_RE: Final = re.compile(r"^'(.+)' is a required property$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document: where (RFC 6901 pointer) and what was expected."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class EPCISValidationError(ValueError):
    """A document failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(map(str, problems[:10]))
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} problem(s): {shown}{more}")


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(f"data/{name}").read_text("utf-8")


@cache
def schema() -> dict[str, Any]:
    """The official EPCIS 2.0 JSON Schema (local copy)."""
    loaded: dict[str, Any] = json.loads(_data("EPCIS-JSON-Schema.json"))
    return loaded


@cache
def context() -> dict[str, Any]:
    """The official EPCIS 2.0 JSON-LD context (local copy; never fetched)."""
    loaded: dict[str, Any] = json.loads(_data("epcis-context.jsonld"))
    return loaded


def load_context(url: str) -> dict[str, Any]:
    """Resolve a context URL a document names; only the EPCIS context is known, offline."""
    if url in CONTEXT_URLS:
        return context()
    raise KeyError(f"unknown JSON-LD context {url!r}; only the EPCIS 2.0 context is bundled")


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # the schema's "type" keyword reports non-strings
    if not _TIME_RE.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or vocab.is_uri(value)


@cache
def _validator() -> Draft7Validator:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_is_time)
    checker.checks("uri")(_is_uri)
    Draft7Validator.check_schema(schema())
    return Draft7Validator(schema(), format_checker=checker)


@cache
def _fast_validator() -> jsonschema_rs.Draft7Validator:
    """The same schema and formats, compiled in Rust: ~100× faster, but its errors do not
    carry what :func:`_from_schema_error` needs, so it only answers "valid or not"."""
    return jsonschema_rs.Draft7Validator(
        schema(),
        formats={"date-time": _is_time, "uri": _is_uri},
        validate_formats=True,
        ignore_unknown_formats=True,
        offline=True,
    )


def problems(document: object) -> list[Problem]:
    """Every problem with ``document`` (decoded JSON); an empty list means it is valid."""
    if not isinstance(document, dict):
        return [Problem("", f"expected a JSON object, got {type(document).__name__}")]
    if document.get("type") not in DOCUMENT_TYPES:
        return [Problem("/type", f"expected one of {', '.join(DOCUMENT_TYPES)}")]
    found: list[Problem] = []
    shown = copy.deepcopy(document)
    for event_pointer, event in _events(shown):
        found += _check_event_vocabulary(event_pointer, event)
    if not found and _fast_validator().is_valid(shown):
        return []  # a valid document (most are) skips the slow, precise error search
    vocab_pointers = {p.pointer for p in found}
    alternatives: list[tuple[Problem, set[str]]] = []
    for error in _validator().iter_errors(shown):
        problem = _from_schema_error(error)
        if any(problem.pointer.startswith(v) for v in vocab_pointers):
            continue
        if error.validator in ("anyOf", "oneOf") and error.context:
            alternatives.append((problem, _sub_pointers(problem.pointer, error)))
        else:
            found.append(problem)
    # "none of the alternatives matched" says nothing new when a specific problem was
    # already reported at one of the fields the alternatives talk about.
    specific = {p.pointer for p in found}
    found += [p for p, subs in alternatives if not subs & specific]
    unique = dict.fromkeys(found)
    return sorted(unique, key=lambda p: (_pointer_key(p.pointer), p.message))


def validate(document: object) -> None:
    """Raise :class:`EPCISValidationError` listing every problem unless ``document`` is valid."""
    found = problems(document)
    if found:
        raise EPCISValidationError(found)


def event_list_pointer(document: Mapping[str, Any]) -> str:
    """Where the events are: EPCISDocument and EPCISQueryDocument keep them in different places."""
    if document.get("type") == "EPCISQueryDocument":
        return "/epcisBody/queryResults/resultsBody/eventList"
    return "/epcisBody/eventList"


def _events(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    base = event_list_pointer(document)
    node: Any = document
    for part in base.strip("/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, list):
        for i, event in enumerate(node):
            if isinstance(event, dict):
                yield f"{base}/{i}", event


def _check_event_vocabulary(pointer: str, event: dict[str, Any]) -> list[Problem]:
    """CBV checks; standard values in URN/Web-URI spelling are rewritten to the bare word
    in ``event`` (a private copy) so the schema sees the JSON-LD form it expects."""
    found: list[Problem] = []

    def check(container: Any, key: Any, where: str, word_of: Callable[[str], str | None]) -> None:
        value = container[key]
        if not isinstance(value, str):
            return
        try:
            word = word_of(value)
        except vocab.VocabularyError as exc:
            found.append(Problem(where, str(exc)))
            return
        if word is not None:
            container[key] = word

    def cbv(kind: vocab.Kind) -> Callable[[str], str | None]:
        return lambda value: vocab.cbv_word(kind, value)

    kind_of_event = event.get("type")
    if (
        isinstance(kind_of_event, str)
        and kind_of_event not in EVENT_TYPES
        and not vocab.is_uri(kind_of_event)
    ):
        found.append(
            Problem(
                f"{pointer}/type",
                f"expected one of {', '.join(EVENT_TYPES)} or an extension event type URI, "
                f"got {kind_of_event!r}",
            )
        )
    for field, kind in (("bizStep", vocab.BIZ_STEP), ("disposition", vocab.DISPOSITION)):
        if field in event:
            check(event, field, f"{pointer}/{field}", cbv(kind))
    persistent = event.get("persistentDisposition")
    if isinstance(persistent, dict):
        for op in ("set", "unset"):
            values = persistent.get(op)
            for i in range(len(values) if isinstance(values, list) else 0):
                where = f"{pointer}/persistentDisposition/{op}/{i}"
                check(values, i, where, cbv(vocab.DISPOSITION))
    for list_name, kind in (
        ("bizTransactionList", vocab.BIZ_TRANSACTION_TYPE),
        ("sourceList", vocab.SOURCE_DEST_TYPE),
        ("destinationList", vocab.SOURCE_DEST_TYPE),
    ):
        for i, item in _dicts(event.get(list_name)):
            if "type" in item:
                check(item, "type", f"{pointer}/{list_name}/{i}/type", cbv(kind))
    for i, element in _dicts(event.get("sensorElementList")):
        for j, report in _dicts(element.get("sensorReport")):
            if "type" in report:
                where = f"{pointer}/sensorElementList/{i}/sensorReport/{j}/type"
                check(report, "type", where, vocab.measurement_word)
    error = event.get("errorDeclaration")
    if isinstance(error, dict) and "reason" in error:
        check(error, "reason", f"{pointer}/errorDeclaration/reason", cbv(vocab.ERROR_REASON))
    return found


def _dicts(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                yield i, item


def _escape(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _from_schema_error(error: ValidationError) -> Problem:
    pointer = "".join(f"/{_escape(p)}" for p in error.absolute_path)
    if error.validator == "required":
        match = _REQUIRED_RE.match(error.message)
        if match:
            return Problem(f"{pointer}/{_escape(match.group(1))}", "is required")
    if "propertyNames" in error.relative_schema_path or "propertyNames" in error.schema_path:
        return Problem(
            f"{pointer}/{_escape(error.instance)}",
            "is not a field here; extension fields must be namespaced (e.g. example:myField)",
        )
    if error.validator in ("anyOf", "oneOf") and error.context:
        options = dict.fromkeys(_describe(sub) for sub in error.context)
        return Problem(pointer, "expected one of: " + " | ".join(list(options)[:6]))
    return Problem(pointer, f"expected {_expected(error)}, got {error.instance!r:.80}")


def _sub_pointers(pointer: str, error: ValidationError) -> set[str]:
    return {
        pointer + "".join(f"/{_escape(p)}" for p in sub.relative_path)
        for sub in error.context or ()
        if sub.relative_path
    }


def _describe(error: ValidationError) -> str:
    where = "".join(f"/{_escape(p)}" for p in error.relative_path)
    if error.validator == "required":
        match = _REQUIRED_RE.match(error.message)
        name = match.group(1) if match else error.message
        return f"{where}/{name} present" if where else f"{name} present"
    return f"{where or 'value'} {_expected(error)}"


def _expected(error: ValidationError) -> str:
    value = error.validator_value
    match error.validator:
        case "enum":
            return "one of " + ", ".join(map(str, value[:12])) + (", …" if len(value) > 12 else "")
        case "type":
            return f"a JSON {value}"
        case "pattern":
            return f"a string matching {value}"
        case "format":
            return {"date-time": "an RFC 3339 date-time with offset", "uri": "an absolute URI"}.get(
                value, f"format {value}"
            )
        case "uniqueItems":
            return "no duplicate items"
        case "minItems":
            return f"at least {value} item(s)"
        case "additionalProperties":
            return "no other fields"
        case "not":
            return "this field to be absent"
        case _:
            return str(error.message)


def _pointer_key(pointer: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in pointer.split("/")]
