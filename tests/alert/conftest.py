import sys
from pathlib import Path

for folder in ("record", "grid", "provenance", "recall"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / folder))

from recallgraph import graph  # noqa: E402, F401
from recordharness import env_fixture  # noqa: E402, F401
