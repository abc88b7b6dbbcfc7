"""A witness for trying cosignatures in ``foodtrace demo``.

It is run by the demo's own server (mounted at :data:`PATH`, its key under
``data_dir/witness``), so it proves nothing about the operator: it shows the flow (the log
collecting cosignatures by itself, a page link pinning the witness key, the scanner
requiring it). Independence needs witnesses the operator does not run.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from foodtrace.config import Settings
from foodtrace.store.log import MerkleLog
from foodtrace.witness.collect import Endpoint
from foodtrace.witness.state import CONFIG_FILE, WitnessState, init

NAME = "demo-witness.foodtrace.invalid/w1"
PATH = "/demo-witness"


def directory(data_dir: Path) -> Path:
    return data_dir / "witness"


def prepare(data_dir: Path, log: MerkleLog) -> str:
    """Create the demo witness once, have it cosign the log's checkpoints (in process, no
    port needed), and return its cosigner verifier key."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours to act on
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from foodtrace.witness.collector import collect_pending
    from foodtrace.witness.server import create_witness_app

    where = directory(data_dir)
    if not (where / CONFIG_FILE).exists():
        init(where, NAME, [log.verifier_key()])
    state = WitnessState(where)
    endpoint = Endpoint(state.vkey, "http://demo-witness")
    with TestClient(create_witness_app(state), base_url=endpoint.url) as http:
        while (done := collect_pending(log, endpoint, http)) and done[-1].status == "cosigned":
            pass  # a long backlog comes in passes of MAX_PER_PASS
    return state.vkey


def configure(settings: Settings) -> Settings:
    """``settings`` with the demo witness added to the witnesses the server collects from."""
    state = WitnessState(directory(settings.data_dir))
    mine = f"{state.vkey}@{settings.public_base_url}{PATH}"
    listed = ",".join(w for w in (settings.witnesses, mine) if w)
    return settings.model_copy(update={"witnesses": listed})


def mount(app: FastAPI, settings: Settings) -> None:
    """Serve the demo witness's ``POST /add-checkpoint`` under :data:`PATH`."""
    from foodtrace.witness.server import create_witness_app

    app.mount(PATH, create_witness_app(WitnessState(directory(settings.data_dir))))
