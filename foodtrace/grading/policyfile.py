"""The versioned policy files shipped in ``foodtrace/grading/policies/``.

A grade entry names a version; :func:`load` finds its file, so old grades stay recomputable
after a new policy is published. :data:`CURRENT` is the version new grades use.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from foodtrace.grading.policy import Policy, PolicyError, parse

POLICY_DIR = Path(__file__).resolve().parent / "policies"
CURRENT = "2026.1"


def versions() -> list[str]:
    return sorted(p.stem for p in POLICY_DIR.glob("*.toml"))


@cache
def load(version: str = CURRENT) -> Policy:
    """The policy ``version``; :class:`PolicyError` names the versions that exist."""
    path = POLICY_DIR / f"{version}.toml"
    if version not in versions():
        raise PolicyError(f"unknown policy version {version!r}, expected one of {versions()}")
    policy = parse(tomllib.loads(path.read_text(encoding="utf-8")))
    if policy.version != version:
        raise PolicyError(f"{path.name}: declares version {policy.version!r}")
    return policy
