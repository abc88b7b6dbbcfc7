"""Engines, sessions and migrations for one database URL (SQLite file or PostgreSQL).

SQLite is set up so an acknowledged write survives a crash and readers never block the
writer: WAL, ``synchronous=FULL``, foreign keys on, a busy timeout. pysqlite's own
transaction handling is switched off so SAVEPOINTs work and the log writer can take the
write lock up front (``BEGIN IMMEDIATE``) instead of failing to upgrade a read lock later.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
BEGIN_OPTION = "foodtrace_sqlite_begin"
"""Execution option naming the statement that opens a SQLite transaction."""


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever driver the URL names (or none)."""
    u = make_url(url)
    if u.get_backend_name() == "postgresql" and u.drivername != "postgresql+psycopg":
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def redacted(url: str) -> str:
    """``url`` fit to print or log: the password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: show nothing of it
        return "<unparseable database URL>"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created if missing.

    ``hide_parameters``: a failing statement's error (and so any traceback or log line)
    never carries its bound values, which may be names or ID numbers. On SQLite every
    connection sets ``secure_delete`` so erased personal data is zeroed in the file, not
    left in free pages.
    """
    kwargs.setdefault("hide_parameters", True)
    u = make_url(normalize_url(url))
    if u.get_backend_name() != "sqlite":
        return create_engine(u, pool_pre_ping=True, **kwargs)
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(u, connect_args={"check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))

    return engine


def writer_engine(engine: Engine) -> Engine:
    """The same engine, but SQLite transactions take the write lock when they begin."""
    return engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})


def begin_write(session: Session) -> None:
    """Open ``session``'s transaction as a writer: on SQLite ``BEGIN IMMEDIATE``, which waits
    (busy timeout) for the write lock instead of failing later. A deferred transaction that
    reads and then writes cannot wait: once another writer (the log's group commit, scan
    counts, the anchorer) committed after its first read, SQLite refuses the upgrade at once
    with ``database is locked``. Call it first, before anything else runs in the session."""
    session.connection(execution_options={BEGIN_OPTION: "BEGIN IMMEDIATE"})


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (Alembic ``upgrade``)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    finally:
        engine.dispose()
