"""No personal value in any log line, and no database password on any printed URL."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from foodtrace.cli import app as cli
from foodtrace.health.models import PersonalData
from foodtrace.store.db import make_engine, migrate, redacted

ID_NUMBER = "110105199001017777"
PASSWORD = "s3cr3t-pw"


def test_failing_insert_keeps_the_id_number_out_of_every_log_record(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    migrate(db_url)
    engine = make_engine(db_url, echo=True)  # echo: every statement logged, as when debugging
    try:
        with Session(engine) as session:
            session.add(PersonalData(commitment="c" * 64, kind="id_number", value="first"))
            session.commit()
        caplog.set_level(logging.DEBUG)
        with pytest.raises(IntegrityError) as raised, Session(engine) as session:
            session.add(PersonalData(commitment="c" * 64, kind="id_number", value=ID_NUMBER))
            try:
                session.commit()
            except IntegrityError:
                logging.getLogger("foodtrace.test").exception("insert failed")
                raise
    finally:
        engine.dispose()
    assert ID_NUMBER not in str(raised.value)
    lines = [caplog.handler.format(r) for r in caplog.records]
    assert any("INSERT INTO personal_data" in line for line in lines)  # the statement was logged
    assert any("insert failed" in line and "Traceback" in line for line in lines)
    assert not [line for line in lines if ID_NUMBER in line]


def test_redacted_hides_the_password() -> None:
    url = f"postgresql+psycopg://foodtrace:{PASSWORD}@db.example:5432/trace"
    assert PASSWORD not in redacted(url) and "***" in redacted(url)
    assert redacted("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_migrate_prints_the_url_without_its_password(pg_url: str) -> None:
    # trust auth ignores the password, so the command really connects and migrates
    with_password = make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    assert PASSWORD in with_password
    result = CliRunner().invoke(cli, ["migrate", "--db", with_password])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert PASSWORD not in result.output and "***" in result.output
