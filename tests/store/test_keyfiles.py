"""Key files: written whole or not at all, never over an existing key, never silently
re-made once something depends on them; the startup check on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.scan.models import ScanCount
from foodtrace.store.db import make_engine, migrate
from foodtrace.store.keyfiles import MissingKeyError, check_keys, load_key
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod
from foodtrace.trace import keys


def test_a_key_file_is_never_overwritten_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "k" / "log.key"
    first = keys.generate()
    keys.write_private(path, first)
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError):
        keys.write_private(path, keys.generate())
    assert keys.public_bytes(keys.read_private(path)) == keys.public_bytes(first)
    assert [p.name for p in path.parent.iterdir()] == ["log.key"]


def test_load_key_creates_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "authority.key"
    with pytest.raises(MissingKeyError, match=f"{path} is missing, but 3 codes"):
        load_key(path, "code authority key", may_create=False, depends="3 codes use it")
    assert not path.exists()
    made = load_key(path, "code authority key", may_create=True)
    again = load_key(path, "code authority key", may_create=False)
    assert keys.public_bytes(made) == keys.public_bytes(again)


def test_startup_check_and_the_log_key(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=db_url)
    migrate(db_url)
    engine = make_engine(db_url)
    try:
        check_keys(settings, engine)  # an empty database needs no key
        with MerkleLog(db_url, settings=settings, migrate=False) as log:
            author = keys.generate()
            log.append([entry_mod.sign(author, type="note", author="farm", body={"n": 1})])
            log.issue_checkpoint()
        check_keys(settings, engine)  # entries, but no code issued yet: nothing else needed
        settings.resolved_log_key_file.unlink()
        with pytest.raises(MissingKeyError, match=r"log key file .* is missing, but the log"):
            check_keys(settings, engine)
        with MerkleLog(db_url, settings=settings, migrate=False) as log:
            log.append([entry_mod.sign(author, type="note", author="farm", body={"n": 2})])
            with pytest.raises(MissingKeyError, match="1 checkpoints were signed"):
                log.issue_checkpoint()
        assert not settings.resolved_log_key_file.exists()  # and none was made

        now = datetime.now(UTC)
        with Session(engine) as session, session.begin():  # a code was scanned: its key counts
            session.add(
                ScanCount(
                    code_key="x",
                    kind="lot",
                    scans=1,
                    places=1,
                    first_at=now,
                    last_at=now,
                    suspect=False,
                )
            )
        with pytest.raises(MissingKeyError) as missing:
            check_keys(settings, engine)
        assert str(settings.resolved_code_authority_key_file) in str(missing.value)
    finally:
        engine.dispose()
