"""A small file system of the test's own, to fill for real: a tmpfs of a few MiB (root may
mount one), else an ext4 image on a loop device. Neither possible: the test fails, loudly;
a disk-full test that quietly skips would hide that it never ran."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CHUNK = 64 * 1024


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@contextmanager
def small_filesystem(where: Path, size_mib: int = 8) -> Iterator[Path]:
    """``where``, with a file system of ``size_mib`` MiB mounted on it; unmounted after."""
    where.mkdir(parents=True, exist_ok=True)
    tried = _run("mount", "-t", "tmpfs", "-o", f"size={size_mib}m", "tmpfs", str(where))
    image = where.parent / f"{where.name}.ext4"
    if tried.returncode != 0:
        with image.open("wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        made = _run("mkfs.ext4", "-q", "-F", str(image))
        looped = made
        if made.returncode == 0:
            looped = _run("mount", "-o", "loop", str(image), str(where))
        if looped.returncode != 0:
            raise AssertionError(
                "no small file system to fill: mount tmpfs said "
                f"{tried.stderr.strip()!r}, the loop-mounted ext4 image {looped.stderr.strip()!r}"
            )
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))
        image.unlink(missing_ok=True)


def fill(path: Path, leave: int) -> Path:
    """Write a ballast file at ``path`` until the file system is full, then give back about
    ``leave`` bytes of it: the room the test's writes have left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    block, size = b"\0" * CHUNK, 0
    try:
        while True:
            try:
                size += os.write(fd, block)
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    finally:
        os.close(fd)
    with path.open("r+b") as f:
        f.truncate(max(0, size - leave))
    return path


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize
