"""The ``foodtrace`` command. Each area registers its own commands here; this module only
composes them, so no area imports another's command code."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="foodtrace",
    help="FoodTrace (食安链): a verifiable, chain-anchored food traceability log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Modules exposing ``register(app: typer.Typer) -> None``; listed here, imported lazily so a
# missing optional area never breaks the others.
COMMAND_MODULES = (
    "foodtrace.store.commands",
    "foodtrace.ledger.commands",
    "foodtrace.record.commands",
    "foodtrace.epcis.commands",
    "foodtrace.api.commands",
    "foodtrace.scanner.commands",
    "foodtrace.labels.commands",
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:
        if exc.name != _name:
            raise
        continue
    _module.register(app)


if __name__ == "__main__":
    app()
