"""Key files: written once, atomically and durably; never silently replaced.

A key that signed or sealed something must never be swapped for a fresh one because its file
went missing: a new log key would sign checkpoints no pinned verifier accepts, a new code
authority key would make every printed code look forged, a new master key would leave every
custodial key sealed for good. So a key is created only while nothing depends on it yet, and
:func:`check_keys` (run when the server starts) refuses to go on when the database holds
entries but a key file is gone, naming the file and what to restore.

Every path comes from :class:`~foodtrace.config.Settings` (its ``resolved_*_key_file``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text

from foodtrace.config import Settings
from foodtrace.trace import keys

MASTER_KEY_ENV = "FOODTRACE_MASTER_KEY"


class MissingKeyError(RuntimeError):
    """A key file the data depends on is missing; the message says which and what to do."""


def missing(path: Path, what: str, depends: str) -> MissingKeyError:
    return MissingKeyError(
        f"the {what} file {path} is missing, but {depends}. Restore that file from your "
        f"backup (or point its FOODTRACE_* setting at it); a new key would not be the same "
        "key, so none is made."
    )


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        try:
            return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
        except Exception:  # the table does not exist yet: nothing depends on the key
            conn.rollback()
            return 0


def log_entries(engine: Engine) -> int:
    return _count(engine, "entries")


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    """The log's signing key, created (owner-only file) on first use."""
    try:
        return keys.read_private(path)
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError):  # another process created it first
            keys.write_private(path, keys.generate())
        return keys.read_private(path)


def load_key(
    path: Path, what: str, *, may_create: bool, depends: str = "data depends on it"
) -> Ed25519PrivateKey:
    """The Ed25519 key at ``path``; created (atomically) only if ``may_create``, else a
    missing file is a :class:`MissingKeyError`."""
    try:
        return keys.read_private(path)
    except FileNotFoundError:
        if not may_create:
            raise missing(path, what, depends) from None
    with contextlib.suppress(FileExistsError):  # another process created it first
        keys.write_private(path, keys.generate())
    return keys.read_private(path)


def check_keys(settings: Settings, engine: Engine) -> None:
    """Refuse to run on a database with entries whose keys are missing (see module doc).

    The log key is needed once a checkpoint was signed with it; the code authority key once
    the log holds entries and codes it signed are known to exist (serials issued, or codes
    scanned: lot and merchant codes leave no other trace in the database); the master key
    once a custodial key is sealed with it (unless it comes from ``FOODTRACE_MASTER_KEY``).
    """
    entries, signed = log_entries(engine), _count(engine, "checkpoints")
    problems: list[MissingKeyError] = []
    if signed and not settings.resolved_log_key_file.is_file():
        depends = f"the log holds {entries} entries and {signed} checkpoints signed with it"
        problems.append(missing(settings.resolved_log_key_file, "log key", depends))
    authority = settings.resolved_code_authority_key_file
    issued = _count(engine, "issued_serials") + _count(engine, "scan_counts")
    if entries and issued and not authority.is_file():
        depends = f"the log holds {entries} entries and codes signed with it were issued/scanned"
        problems.append(missing(authority, "code authority key", depends))
    sealed = _count(engine, "custodial_keys")
    if (
        sealed
        and not os.environ.get(MASTER_KEY_ENV)
        and not settings.resolved_master_key_file.is_file()
    ):
        problems.append(
            missing(
                settings.resolved_master_key_file,
                "master key",
                f"{sealed} custodial keys are sealed with it",
            )
        )
    if problems:
        raise MissingKeyError("; ".join(str(p) for p in problems))
