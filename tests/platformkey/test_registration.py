"""The platform key's registration: logged once per key, whatever restarts or races, and a
countersignature only the log key makes (on SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from foodtrace.api.problems import Problem
from foodtrace.auth.models import Principal, Role
from foodtrace.config import Settings
from foodtrace.platformkey import writes
from foodtrace.platformkey.service import registered, registration
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.service import submit
from foodtrace.store.db import session_factory
from foodtrace.store.log import MerkleLog
from foodtrace.store.models import LogEntry
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys
from foodtrace.trace.checkpoint import verifier_key
from foodtrace.trace.platform_note import REGISTER_TYPE, PlatformNoteError, check_note


def _registrations(log: MerkleLog) -> int:
    with session_factory(log.engine)() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(LogEntry).where(LogEntry.type == REGISTER_TYPE)
            )
            or 0
        )


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=db_url)


def test_registered_once_across_restarts_and_on_rotation(settings: Settings) -> None:
    with MerkleLog(settings.resolved_database_url, settings=settings) as log:
        first = writes.register(log, session_factory(log.engine), settings)
        assert first is not None
        assert writes.register(log, session_factory(log.engine), settings) is None
    with MerkleLog(settings.resolved_database_url, settings=settings) as log:  # a restart
        assert writes.register(log, session_factory(log.engine), settings) is None
        assert _registrations(log) == 1
        settings.resolved_platform_key_file.unlink()  # a rotated key file: a new key
        second = writes.register(log, session_factory(log.engine), settings)
        assert second is not None and second > first
        assert _registrations(log) == 2


def test_a_second_registration_of_a_key_is_refused(settings: Settings) -> None:
    """Two workers racing to register one key: the later group is a conflict."""
    with MerkleLog(settings.resolved_database_url, settings=settings) as log:
        sessions = session_factory(log.engine)
        key = platform_key(settings)
        with sessions() as session, session.begin():
            ensure_platform_author(session, settings.platform_author, key)
        platform = Principal(settings.platform_author, Role.REGULATOR, 0)
        submit(
            log,
            sessions,
            platform,
            [registration(settings.platform_author, key, log.origin, log.key)],
        )
        again = registration(settings.platform_author, key, log.origin, log.key)
        with pytest.raises(Problem) as caught:
            submit(log, sessions, platform, [again])
        assert caught.value.status == 409
        assert _registrations(log) == 1


def test_the_first_platform_signed_write_logs_the_registration_first(settings: Settings) -> None:
    with MerkleLog(settings.resolved_database_url, settings=settings) as log:
        sessions = session_factory(log.engine)
        key = platform_key(settings)
        with sessions() as session, session.begin():
            ensure_platform_author(session, settings.platform_author, key)
        signed = entry_mod.sign(key, type="note", author=settings.platform_author, body={})
        [reg] = writes.registrations(log, sessions, [signed])
        assert (reg.type, reg.author, reg.key) == (
            REGISTER_TYPE,
            settings.platform_author,
            keys.key_id(key),
        )
        submit(log, sessions, Principal(settings.platform_author, Role.REGULATOR, 0), [reg])
        assert writes.registrations(log, sessions, [signed]) == []
        with sessions() as session:
            assert list(registered(session, settings.platform_author, [keys.key_id(key)])) == [
                keys.key_id(key)
            ]


def test_the_countersignature_is_the_log_keys_and_names_the_key() -> None:
    log_key, platform, other = keys.generate(), keys.generate(), keys.generate()
    origin = "foodtrace.example/log"
    reg = registration("foodtrace-platform", platform, origin, log_key)
    note, public = reg.body["log_note"], reg.body["public_key"]
    pinned = verifier_key(origin, log_key)
    assert check_note(note, "foodtrace-platform", public, [pinned]) == origin
    with pytest.raises(PlatformNoteError, match="does not name"):
        check_note(note, "foodtrace-platform", keys.public_to_b64(other), [pinned])
    with pytest.raises(PlatformNoteError, match="no signature by a trusted key"):
        check_note(note, "foodtrace-platform", public, [verifier_key(origin, other)])
