"""Coverage-guided fuzzing of the same parsers as ``test_parser_fuzz.py``, with atheris
(libFuzzer), for long runs outside pytest:

    PYTHONPATH=$PWD .venv/bin/python tests/security/atheris_fuzz.py TARGET -runs=100000

TARGET is one of the names in ``TARGETS``; libFuzzer flags follow it (``-max_total_time=60``,
a corpus directory …). A target fails (libFuzzer reports the input and exits non-zero) when a
parser raises anything but its module's named error.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from foodtrace.store import canonical
    from foodtrace.trace import bundle, checkpoint, codes, entry, keys, tlog_tiles
    from foodtrace.trace.epcis import validate as epcis
    from foodtrace.trace.errors import CheckpointError, EntryError, MalformedInputError

VKEY = checkpoint.verifier_key("fuzz.example/log", keys.generate())


def _text(data: bytes) -> str:
    return atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))


def _canonical(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        obj, simple = canonical.loads(_text(data))
        once = canonical.dumps(obj, simple)
        assert canonical.dumps(*canonical.loads(once.decode())) == once


def _entry(data: bytes) -> None:
    with contextlib.suppress(EntryError):
        entry.loads(data)


def _epcis(data: bytes) -> None:
    try:
        document = json.loads(_text(data))
    except ValueError:
        return
    with contextlib.suppress(epcis.EPCISValidationError):
        epcis.validate(document)


def _code(data: bytes) -> None:
    with contextlib.suppress(codes.CodeError):
        codes.parse_code("https://ft.example/" + _text(data))


def _note(data: bytes) -> None:
    with contextlib.suppress(CheckpointError):
        checkpoint.verify_note(data, [VKEY])
    with contextlib.suppress(CheckpointError):
        checkpoint.parse_body(_text(data))


def _bundle(data: bytes) -> None:
    with contextlib.suppress(MalformedInputError):
        bundle.from_text(bundle.HEADER + "\n" + _text(data))


def _tile(data: bytes) -> None:
    with contextlib.suppress(tlog_tiles.TilePathError):
        tlog_tiles.parse_path(_text(data))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "canonical": _canonical,
    "entry": _entry,
    "epcis": _epcis,
    "code": _code,
    "note": _note,
    "bundle": _bundle,
    "tile": _tile,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: atheris_fuzz.py {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
