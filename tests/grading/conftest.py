import sys
from pathlib import Path

for folder in ("record", "provenance"):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / folder))

from recordharness import env_fixture  # noqa: E402, F401
