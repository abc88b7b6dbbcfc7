import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# The multi-process harnesses of the sequencer and ledger tests, and the record helpers.
for folder in ("record", "sequencer", "ledger"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))
