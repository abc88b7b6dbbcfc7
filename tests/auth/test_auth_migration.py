"""Migration 0022: tokens issued before it keep working, now with an expiry and a name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session

from foodtrace.auth import authenticate
from foodtrace.auth.models import ApiToken
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
        migrate(db_url, "0022_token_lifecycle")
        with Session(engine) as session:
            rows = session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
            assert [r.name for r in rows] == ["legacy", "init-regulator"]
            for r in rows:
                left = aware(r.expires_at) - datetime.now(UTC)
                assert TOKEN_TTL - timedelta(minutes=5) < left <= TOKEN_TTL
                assert r.last_used_at is None and aware(r.created_at) == created
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
