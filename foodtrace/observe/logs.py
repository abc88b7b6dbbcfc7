"""Structured logs: one JSON object per line, with the request's id, route, status, duration.

Log lines leave the process (collectors, tickets, chat), so they must never carry personal
data or secrets. Request paths are logged by their route template plus the redacted query;
query values of known personal or secret fields are replaced, and any ``user:password@`` in
a URL anywhere in a message is masked.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "***"
PERSONAL_FIELDS = frozenset(
    {
        "name",
        "full_name",
        "person",
        "id_number",
        "id_card",
        "idcard",
        "identity",
        "phone",
        "mobile",
        "tel",
        "email",
        "address",
        "contact",
        "salt",
        "password",
        "passwd",
        "secret",
        "token",
        "access_token",
        "api_key",
        "key",
        "authorization",
    }
)
"""Query parameters whose values are never logged (personal data under PIPL, or secrets)."""

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
# The fields a request's log line may carry (``extra=``), in output order.
REQUEST_FIELDS = ("request_id", "method", "route", "path", "status", "duration_ms")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "foodtrace_request_id", default=None
)


def redact_url_password(text: str) -> str:
    """``postgresql://app:s3cret@db/x`` → ``postgresql://app:***@db/x``, anywhere in text."""
    return _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED + "@", text)


def redact_query(query: str) -> str:
    """A query string with the values of personal or secret fields replaced."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    safe = [(k, REDACTED if k.lower() in PERSONAL_FIELDS else v) for k, v in pairs]
    return urlencode(safe, safe="*")


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", …request fields, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact_url_password(record.getMessage()),
        }
        rid = getattr(record, "request_id", None) or request_id.get()
        if rid is not None:
            out["request_id"] = rid
        for name in REQUEST_FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = redact_url_password(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


_HANDLER_FLAG = "_foodtrace_json"


def configure(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every log record (ours, uvicorn's, SQLAlchemy's) as JSON lines to ``stream``
    (default stderr). Idempotent: a second call replaces the first handler."""
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, _HANDLER_FLAG, False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # Our middleware logs each request with its route template; uvicorn's access log would
    # repeat it with the raw path (and its query string).
    logging.getLogger("uvicorn.access").disabled = True
    return handler
