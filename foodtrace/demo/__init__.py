"""``foodtrace demo``: the service on its embedded defaults, seeded with a realistic chain.

A Shandong vegetable farm (寿光) → a fresh-cut processor → a cold-chain carrier → a Beijing
restaurant, with a lab, an inspector and the regulator. Everything after the regulator's
bootstrap is written through the real HTTP API (an in-process client speaking HTTP to the
app), with server-held keys, so the demo needs no key files and exercises the same write
path as any client. Then one anchor puts the data on the embedded chain, signed QR codes
are written as PNGs, and the service runs.

Seeding is idempotent: a database that already has a regulator is left as it is.

The package: :mod:`~foodtrace.demo.cast` (who and what), :mod:`~foodtrace.demo.events`
(the chain's records), :mod:`~foodtrace.demo.seeding` (writing them through the API),
:mod:`~foodtrace.demo.city` (the demo city: a district's grids, businesses and a year of
regulatory work) and :mod:`~foodtrace.demo.shell` (the command).
"""

from foodtrace.demo.cast import (
    AUTHORITY_KEY_FILE,
    BY_KEY,
    CST,
    CUCUMBER,
    DEFAULT_DATA_DIR,
    PARTIES,
    REGULATOR,
    REGULATOR_KEY_FILE,
    SALAD,
    SCAN_STATE_FILE,
    STATE_FILE,
    TOMATO,
    DemoLot,
    DemoParty,
    credit_code,
    gln,
    gtin13,
    lots,
    org_code,
    recalled_lot,
)
from foodtrace.demo.events import demo_events, demo_master_data, report_pdf
from foodtrace.demo.seeding import Api, DemoError, Seeded, credit_id_number, seed
from foodtrace.demo.shell import (
    Summary,
    demo_settings,
    prepare,
    scan_command,
    seeding_settings,
    summary_lines,
    write_codes,
)

__all__ = [
    "AUTHORITY_KEY_FILE",
    "BY_KEY",
    "CST",
    "CUCUMBER",
    "DEFAULT_DATA_DIR",
    "PARTIES",
    "REGULATOR",
    "REGULATOR_KEY_FILE",
    "SALAD",
    "SCAN_STATE_FILE",
    "STATE_FILE",
    "TOMATO",
    "Api",
    "DemoError",
    "DemoLot",
    "DemoParty",
    "Seeded",
    "Summary",
    "credit_code",
    "credit_id_number",
    "demo_events",
    "demo_master_data",
    "demo_settings",
    "gln",
    "gtin13",
    "lots",
    "org_code",
    "prepare",
    "recalled_lot",
    "report_pdf",
    "scan_command",
    "seed",
    "seeding_settings",
    "summary_lines",
    "write_codes",
]
