"""A private PostgreSQL server for the tests that restart or stop one: ``initdb`` into a
temporary folder owned by the ``postgres`` account (the server refuses to run as root), trust
auth, listening on a free loopback port only. The shared server at 127.0.0.1:5432 is never
touched: other engineers' tests run on it."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from processes import free_port

BIN = Path("/usr/lib/postgresql/15/bin")
ACCOUNT = "postgres"
DATABASE = "faults"


def _as_postgres(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(
        ["runuser", "-u", ACCOUNT, "--", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done.stdout


@dataclass(frozen=True)
class Cluster:
    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _options(self) -> str:
        # fsync off: only the server's processes die in these tests, never the kernel, so
        # what was written survives an immediate stop without it (and the shared disk is spared)
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder} "
            "-c fsync=off -c max_connections=60"
        )

    def ctl(self, *args: str) -> str:
        log = str(self.folder / "server.log")
        return _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", *args)

    def start(self) -> None:
        self.ctl("-o", self._options(), "start")

    def stop(self, mode: str) -> None:
        """``fast``: clients disconnected, a clean shutdown; ``immediate``: every server
        process killed at once, crash recovery at the next start."""
        self.ctl("-m", mode, "stop")

    def restart(self, mode: str) -> None:
        self.ctl("-m", mode, "-o", self._options(), "restart")


@contextmanager
def private_cluster() -> Iterator[Cluster]:
    """A running private server with an empty database ``faults``; stopped and deleted after."""
    account = pwd.getpwnam(ACCOUNT)
    folder = Path(tempfile.mkdtemp(prefix="foodtrace-pg-"))
    os.chown(folder, account.pw_uid, account.pw_gid)
    cluster = Cluster(folder, free_port())
    try:
        _as_postgres(
            str(BIN / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8",
        )  # fmt: skip
        cluster.start()
        _as_postgres(
            str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
            DATABASE,
        )  # fmt: skip
        yield cluster
    finally:
        with contextlib.suppress(AssertionError):  # not running (a failed start)
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
