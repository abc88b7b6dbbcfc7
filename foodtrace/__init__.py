"""FoodTrace (食安链): blockchain-anchored food traceability."""

__version__ = "0.1.0"
