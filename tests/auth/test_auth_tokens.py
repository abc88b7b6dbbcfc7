"""API tokens: hashed at rest, found by prefix, compared in constant time, revocable."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from foodtrace.auth import (
    ApiToken,
    Principal,
    Role,
    authenticate,
    issue_token,
    list_tokens,
    revoke,
    role_for_party_kind,
)
from foodtrace.store.base import Base
from foodtrace.store.db import make_engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    Base.metadata.create_all(engine, tables=[ApiToken.__table__])  # type: ignore[list-item]
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session


def test_token_is_shown_once_and_stored_only_as_a_hash(session: Session) -> None:
    token = issue_token(session, "party:farm-1", Role.PRODUCER, name="packing line")
    session.commit()
    assert token.startswith("ft_") and len(token) == 46
    secret = token[len("ft_") :]
    [row] = session.execute(select(ApiToken.__table__)).all()
    stored = " ".join(str(v) for v in row)
    assert token not in stored and secret not in stored
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.prefix == token[:11]
    assert (row.party_id, row.role, row.name, row.revoked_at) == (
        "party:farm-1",
        "producer",
        "packing line",
        None,
    )


def test_each_token_is_fresh(session: Session) -> None:
    tokens = {issue_token(session, "p1", "lab") for _ in range(5)}
    assert len(tokens) == 5


def test_authenticate_finds_the_principal(session: Session) -> None:
    token = issue_token(session, "gov:sh-amr", Role.REGULATOR)
    issue_token(session, "other", Role.LAB)
    session.commit()
    principal = authenticate(session, token)
    [row] = list_tokens(session, "gov:sh-amr")
    assert principal == Principal(party_id="gov:sh-amr", role=Role.REGULATOR, token_id=row.id)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # same prefix, wrong secret
        lambda t: t[:-1],  # truncated
        lambda t: t + "x",  # too long
        lambda t: "xx" + t[2:],  # wrong scheme
        lambda t: t[:20] + "!" + t[21:],  # not url-safe
        lambda t: "",
    ],
)
def test_wrong_tokens_authenticate_no_one(session: Session, mangle: Callable[[str], str]) -> None:
    token = issue_token(session, "p1", Role.PRODUCER)
    session.commit()
    assert authenticate(session, mangle(token)) is None


def test_revoked_token_authenticates_no_one(session: Session) -> None:
    token = issue_token(session, "p1", Role.INSPECTOR)
    keep = issue_token(session, "p1", Role.INSPECTOR)
    session.commit()
    principal = authenticate(session, token)
    assert principal is not None
    assert revoke(session, principal.token_id, party_id="someone-else") is False
    assert revoke(session, principal.token_id) is True
    session.commit()
    assert authenticate(session, token) is None
    assert authenticate(session, keep) is not None
    assert revoke(session, principal.token_id) is False  # already revoked
    assert revoke(session, 10_000) is False  # no such token
    assert [t.revoked_at is not None for t in list_tokens(session, "p1")] == [True, False]


def test_unknown_role_is_refused_in_code_and_in_the_database(session: Session) -> None:
    with pytest.raises(ValueError, match="admin"):
        issue_token(session, "p1", "admin")
    with pytest.raises(IntegrityError):
        session.execute(
            insert(ApiToken).values(
                party_id="p1",
                role="admin",
                prefix="ft_aaaaaaaa",
                token_hash="0" * 64,
                created_at=datetime.now(UTC),
                expires_at=datetime.now(UTC),
                name="",
            )
        )


def test_party_kinds_map_to_roles() -> None:
    for kind in ("producer", "processor", "logistics", "retailer", "restaurant"):
        assert role_for_party_kind(kind) is Role.PRODUCER
    assert role_for_party_kind("lab") is Role.LAB
    with pytest.raises(ValueError, match="consumer"):
        role_for_party_kind("consumer")
