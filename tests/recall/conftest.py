import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0] / "record"))
sys.path.insert(0, str(HERE.parents[0] / "provenance"))
sys.path.insert(0, str(HERE))

from recallgraph import graph  # noqa: E402, F401
from recordharness import env_fixture  # noqa: E402, F401
