"""The attack suite reuses the record harness (a live API on both backends) and the
resolver's seeded demo chain and browser fixtures."""

import importlib.util
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "record"))
sys.path.insert(0, str(TESTS / "resolver"))
sys.path.insert(0, str(TESTS / "provenance"))
sys.path.insert(0, str(TESTS / "grid"))

from recordharness import env_fixture  # noqa: E402, F401


def _resolver_fixtures() -> object:
    spec = importlib.util.spec_from_file_location(
        "resolver_fixtures", TESTS / "resolver/conftest.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


_resolver = _resolver_fixtures()
seeded = _resolver.seeded  # type: ignore[attr-defined]
browser = _resolver.browser  # type: ignore[attr-defined]
page = _resolver.page  # type: ignore[attr-defined]
Seeded = _resolver.Seeded  # type: ignore[attr-defined]
