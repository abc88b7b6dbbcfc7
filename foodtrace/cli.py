"""The ``foodtrace`` command. Each area registers its own commands here; this module only
composes them, so no area imports another's command code."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="foodtrace",
    help="FoodTrace (食安链): a verifiable, chain-anchored food traceability log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register_areas() -> None:
    """Every area's ``register(app)``; imported here so that each area's command module
    depends only on its own area."""
    from foodtrace.api import commands as api
    from foodtrace.epcis import commands as epcis
    from foodtrace.labels import commands as labels
    from foodtrace.ledger import commands as ledger
    from foodtrace.record import commands as record
    from foodtrace.report import commands as report
    from foodtrace.scanner import commands as scanner
    from foodtrace.store import commands as store

    for area in (store, ledger, record, epcis, api, scanner, labels, report):
        area.register(app)


_register_areas()


if __name__ == "__main__":
    app()
