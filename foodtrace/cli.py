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
    from foodtrace.auth import commands as auth
    from foodtrace.draw import commands as draw
    from foodtrace.epcis import commands as epcis
    from foodtrace.grading import commands as grades
    from foodtrace.labels import commands as labels
    from foodtrace.ledger import commands as ledger
    from foodtrace.platformkey import commands as platformkey
    from foodtrace.provenance import commands as provenance
    from foodtrace.record import commands as record
    from foodtrace.report import commands as report
    from foodtrace.scanner import commands as scanner
    from foodtrace.sequencer import commands as sequencer
    from foodtrace.store import commands as store
    from foodtrace.tlog import commands as tlog
    from foodtrace.witness import commands as witness

    for area in (
        store,
        ledger,
        record,
        auth,
        epcis,
        api,
        scanner,
        labels,
        tlog,
        grades,
        draw,
        witness,
        provenance,
        sequencer,
        report,
        platformkey,
    ):
        area.register(app)


_register_areas()


if __name__ == "__main__":
    app()
