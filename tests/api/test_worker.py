"""The serving process's interpreter tuning (foodtrace.api.worker)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from foodtrace.api.worker import settle_heap


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the suite keeps its interpreter as it was


def test_settle_heap_takes_what_is_alive_out_of_the_collectors_view(unfrozen: None) -> None:
    alive = [[i] for i in range(1000)]  # tracked containers alive when the app is built
    assert gc.get_freeze_count() == 0
    settle_heap()
    assert gc.get_freeze_count() >= len(alive)
    assert all(gc.is_tracked(x) for x in alive)  # still alive, only frozen
