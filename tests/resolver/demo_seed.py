"""Seeding the demo chain (foodtrace.demo) into a database, for the resolver's tests.

Kept out of ``conftest.py`` so test modules can import it by a name no other test folder uses.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from foodtrace.config import Settings
from foodtrace.demo import (
    BY_KEY,
    CST,
    REGULATOR,
    REGULATOR_KEY_FILE,
    Api,
    lots,
    seed,
    seeding_settings,
    write_codes,
)


@dataclass(frozen=True)
class Seeded:
    settings: Settings
    today: date
    codes: dict[str, str]  # name -> code URL (merchant-restaurant, lot-{lot code})

    @property
    def restaurant(self) -> str:
        return BY_KEY["restaurant"].credit_code

    def lot_url(self, n: int) -> str:
        return self.codes[f"lot-{lots(self.today)[n].lot_code}"]


def seed_demo(data_dir: Path, database_url: str, port: int = 8000) -> Seeded:
    """What ``foodtrace demo --no-serve`` does, on any database URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from foodtrace.api.app import create_app
    from foodtrace.ledger.anchorer import Anchorer
    from foodtrace.party.service import init_regulator
    from foodtrace.store.db import migrate
    from foodtrace.store.log import MerkleLog

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        chain_url="",
        contract_address="",
        public_base_url=f"http://127.0.0.1:{port}",
    )
    migrate(settings.resolved_database_url)
    today = datetime.now(CST).date()
    with MerkleLog(settings=settings, migrate=False) as log:
        boot = init_regulator(
            log,
            party_id=REGULATOR.credit_code,
            name=REGULATOR.name,
            credit_code=REGULATOR.credit_code,
            key_file=data_dir / REGULATOR_KEY_FILE,
            region=REGULATOR.region,
        )
    app = create_app(seeding_settings(settings))
    with TestClient(app, base_url=settings.public_base_url) as client:
        seed(Api(client, {"regulator": boot.token}), settings, today)
    with MerkleLog(settings=settings, migrate=False) as log:
        anchorer = Anchorer(log, settings)
        try:
            assert anchorer.lock.try_acquire()
            anchorer.run_once(force=True)
        finally:
            anchorer.close()
    codes = {path.stem: url for path, url in write_codes(settings, today)}
    return Seeded(settings, today, codes)
