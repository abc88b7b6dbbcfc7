import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))

from recordharness import env_fixture  # noqa: F401

from foodtrace.ledger.chain import Chain, connect_embedded


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    """The embedded chain a draw's seed block comes from."""
    with connect_embedded(tmp_path / "draw-chain.sqlite") as c:
        yield c
