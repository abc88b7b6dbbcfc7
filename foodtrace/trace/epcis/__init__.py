"""EPCIS 2.0 core: validate documents, extract events and their traceability facts, and
compute the CBV 2.0 event hash id. Pure functions over decoded JSON; no I/O beyond reading
the bundled GS1 schema, context and CBV word lists. Validation is
``foodtrace.trace.epcis.validate.validate`` (the submodule keeps its name)."""

from foodtrace.trace.epcis.events import (
    EventFacts,
    comparable,
    event_list,
    extract,
    facts,
    same_event,
)
from foodtrace.trace.epcis.hashing import document_hash_ids, event_hash_id, pre_hash_string
from foodtrace.trace.epcis.validate import EPCISValidationError, Problem, problems

__all__ = [
    "EPCISValidationError",
    "EventFacts",
    "Problem",
    "comparable",
    "document_hash_ids",
    "event_hash_id",
    "event_list",
    "extract",
    "facts",
    "pre_hash_string",
    "problems",
    "same_event",
]
