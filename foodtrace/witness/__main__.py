"""``python -m foodtrace.witness``: the witness commands alone. A witness operator runs only
this, which imports none of the log's service, ledger or chain code."""

from foodtrace.witness.commands import witness

witness(prog_name="foodtrace witness")
