"""At the first write a platform key signs, its registration is logged first.

:func:`foodtrace.platformkey.signer.ensure_platform_author` (called before every write the
platform signs) hands the key here; :func:`foodtrace.record.service.submit` asks
:func:`registrations` for the ``platform.key.register`` entries its group still needs and
logs them, each as its own group, before the group itself. A restart or a rotated key file
registers the key in use at its first write; an old database at its next one, or with
``foodtrace platform-key`` (:func:`register`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from foodtrace.platformkey.service import registered, registration
from foodtrace.store.log import MerkleLog
from foodtrace.trace import keys
from foodtrace.trace.entry import Entry
from foodtrace.trace.platform_note import REGISTER_TYPE

_keys: dict[tuple[str, str], Ed25519PrivateKey] = {}
# registrations seen in each log (this object on that database; immutable once there)
_done: set[tuple[str, str, str]] = set()
_lock = threading.Lock()


def remember(author: str, key: Ed25519PrivateKey) -> None:
    """``key`` signs ``author``'s entries in this process."""
    with _lock:
        _keys[(author, keys.key_id(key))] = key


def registrations(
    log: MerkleLog, session_factory: Callable[[], Session], entries: Sequence[Entry]
) -> list[Entry]:
    """The registrations to log before ``entries``: one per platform key they are signed
    with that the log does not register yet (none for other authors: one dict look-up)."""
    where = f"{id(log)} {log.engine.url.render_as_string(hide_password=True)}"
    with _lock:
        pending = {
            (e.author, e.key)
            for e in entries
            if e.type != REGISTER_TYPE
            and (e.author, e.key) in _keys
            and (where, e.author, e.key) not in _done
        }
    if not pending:
        return []
    with session_factory() as session:
        found = {
            (author, kid)
            for author in {a for a, _ in pending}
            for kid in registered(session, author, [k for a, k in pending if a == author])
        }
    with _lock:
        _done.update((where, a, k) for a, k in found)
        key_for = {p: _keys[p] for p in pending - found}
    return [
        registration(author, key, log.origin, log.key)
        for (author, _), key in sorted(key_for.items())
    ]


def register(log: MerkleLog, session_factory: Callable[[], Session], settings: Any) -> int | None:
    """Log the registration of the platform key in use unless the log holds one (an old
    database, a rotated key file): its index, or ``None`` when there was nothing to do."""
    from foodtrace.api.problems import Problem
    from foodtrace.auth.models import Principal, Role
    from foodtrace.platformkey.signer import ensure_platform_author, platform_key
    from foodtrace.record.service import submit

    key = platform_key(settings)
    author: str = settings.platform_author
    with session_factory() as session, session.begin():
        ensure_platform_author(session, author, key)
        if registered(session, author, [keys.key_id(key)]):
            return None
    reg = registration(author, key, log.origin, log.key)
    try:
        [ref] = submit(log, session_factory, Principal(author, Role.REGULATOR, 0), [reg])
    except Problem as exc:
        if exc.status == 409:  # another process registered it first
            return None
        raise
    return int(ref.index)
