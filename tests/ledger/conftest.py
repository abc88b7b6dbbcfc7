"""Ledger fixtures: every contract test runs on the embedded chain and on anvil."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anvil import DEV_KEYS, run_anvil
from eth_account import Account

from foodtrace.ledger.chain import Chain, connect_embedded, connect_rpc


@pytest.fixture(scope="session")
def anvil_url() -> Iterator[str]:
    """One anvil per test session (per xdist worker); tests isolate by deploying their own
    contract."""
    with run_anvil() as url:
        yield url


@pytest.fixture(params=["embedded", "anvil"])
def chain(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Chain]:
    """A chain with a funded operator: the embedded chain in a fresh file, or anvil."""
    if request.param == "embedded":
        with connect_embedded(tmp_path / "chain.sqlite") as embedded:
            yield embedded
    else:
        yield connect_rpc(request.getfixturevalue("anvil_url"), DEV_KEYS[0])


@pytest.fixture
def stranger(chain: Chain) -> Chain:
    """A funded account that is neither owner nor anchorer, on the same chain."""
    account = Account.create()
    chain.transact({"to": account.address, "value": 10**18})
    return chain.as_operator(account.key.to_0x_hex())
