"""Migrations 0022 and 0030: tokens issued before them keep working, now with an expiry and
a name (0022), and counted as activated when they were created (0030); on the way down, a
token that was never activated does not come alive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from foodtrace.auth import authenticate, service
from foodtrace.auth.models import ApiToken, Role
from foodtrace.auth.service import TOKEN_TTL, aware, token_hash
from foodtrace.store.db import alembic_config, make_engine, migrate

OLD = "ft_" + "a" * 43
NAMED = "ft_" + "b" * 43


def test_existing_tokens_get_an_expiry_and_a_name(db_url: str) -> None:
    migrate(db_url, "0016_hardening")
    engine = make_engine(db_url)
    created = datetime(2026, 1, 5, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            for token, label in ((OLD, ""), (NAMED, "init-regulator")):
                conn.execute(
                    sa.text(
                        "INSERT INTO api_tokens (party_id, role, prefix, token_hash, created_at,"
                        " revoked_at, label) VALUES (:p, 'producer', :prefix, :h, :c, NULL, :l)"
                    ),
                    {
                        "p": "farm",
                        "prefix": token[:11],
                        "h": token_hash(token),
                        "c": created,
                        "l": label,
                    },
                )
        migrate(db_url, "0030_token_activation")  # the model needs 0030's column
        with Session(engine) as session:
            rows = session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
            assert [r.name for r in rows] == ["legacy", "init-regulator"]
            for r in rows:
                left = aware(r.expires_at) - datetime.now(UTC)
                assert TOKEN_TTL - timedelta(minutes=5) < left <= TOKEN_TTL
                assert r.last_used_at is None and aware(r.created_at) == created
                assert r.activated_at is not None and aware(r.activated_at) == created
            principal = authenticate(session, OLD)
            assert principal is not None and principal.party_id == "farm"
            later = datetime.now(UTC) + TOKEN_TTL + timedelta(minutes=1)
            assert authenticate(session, OLD, now=later) is None
            assert sa.inspect(engine).has_table("enrolment_codes")
    finally:
        engine.dispose()
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:  # and back down
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0016_hardening")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("api_tokens")}
        assert "label" in columns and "expires_at" not in columns
        assert not sa.inspect(engine).has_table("enrolment_codes")
    finally:
        engine.dispose()


def test_a_token_never_activated_stays_dead_below_0030(db_url: str) -> None:
    migrate(db_url, "0030_token_activation")
    engine = make_engine(db_url)
    try:
        with Session(engine) as session, session.begin():
            live = service.new_token(session, "farm", Role.PRODUCER, "live", active=True).row.id
            pending = service.new_token(session, "farm", Role.PRODUCER, "pending").row.id
        with engine.begin() as conn:
            cfg = alembic_config(db_url)
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0029_page_readmodel")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("api_tokens")}
        assert "activated_at" not in columns
        with engine.connect() as conn:
            revoked = dict(conn.execute(sa.text("SELECT id, revoked_at FROM api_tokens")).all())
        assert revoked[live] is None and revoked[pending] is not None
    finally:
        engine.dispose()
