"""JSON log lines: one object per line, nothing personal or secret in them."""

from __future__ import annotations

import io
import json
import logging

from foodtrace.observe import logs


def test_query_values_of_personal_and_secret_fields_are_redacted() -> None:
    q = "phone=13800138000&lot=L1&Name=%E5%BC%A0%E4%B8%89&token=abc&id_number=110101"
    out = logs.redact_query(q)
    assert "13800138000" not in out and "abc" not in out and "110101" not in out
    assert "%E5%BC%A0" not in out
    assert out == "phone=***&lot=L1&Name=***&token=***&id_number=***"
    assert logs.redact_query("") == ""


def test_url_passwords_are_masked_anywhere() -> None:
    text = "cannot reach postgresql+psycopg://app:s3cr%3At@db:5432/x nor http://u:p@h/"
    masked = logs.redact_url_password(text)
    assert "s3cr" not in masked and ":p@" not in masked
    assert "postgresql+psycopg://app:***@db:5432/x" in masked and "http://u:***@h/" in masked
    assert logs.redact_url_password("http://host:8545/") == "http://host:8545/"


def test_one_json_object_per_line() -> None:
    stream = io.StringIO()
    root, access = logging.getLogger(), logging.getLogger("uvicorn.access")
    level, disabled = root.level, access.disabled
    handler = logs.configure("INFO", stream)
    try:
        logger = logging.getLogger("foodtrace.test")
        token = logs.request_id.set("req-1")
        try:
            logger.info("opened %s", "sqlite://u:pw@x/db")
        finally:
            logs.request_id.reset(token)
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        access.disabled = disabled
    first, second = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert first["level"] == "info" and first["logger"] == "foodtrace.test"
    assert first["message"] == "opened sqlite://u:***@x/db"
    assert first["request_id"] == "req-1" and first["time"].endswith("+00:00")
    assert "request_id" not in second and "ValueError: boom" in second["exc"]
