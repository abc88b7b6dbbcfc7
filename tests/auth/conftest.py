import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "record"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sequencer"))  # seqharness

from recordharness import env_fixture  # noqa: F401
