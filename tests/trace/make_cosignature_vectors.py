"""Regenerate tests/trace/data/cosignature_vectors.json (run from the repository root).

The witness keys come from fixed seeds, so the file is reproducible: Ed25519 signing is
deterministic. The C2SP spec publishes an example cosignature line without its key; the
``spec_example`` entry records what that line must parse to (its key ID and the timestamp
of the spec's example signed message).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from foodtrace.trace import checkpoint, cosignature

OUT = Path(__file__).parent / "data" / "cosignature_vectors.json"
LOG_SEED = hashlib.sha256(b"foodtrace cosignature vectors: log").digest()
WITNESSES = ("witness.consumers.example/w1", "witness.regulator.example/w2")


def seed(name: str) -> bytes:
    return hashlib.sha256(f"foodtrace cosignature vectors: {name}".encode()).digest()


def main() -> None:
    log_key = Ed25519PrivateKey.from_private_bytes(LOG_SEED)
    origin = "foodtrace.example/log"
    cp = checkpoint.Checkpoint(origin, 20852163, hashlib.sha256(b"root").digest())
    note = checkpoint.sign_checkpoint(cp, origin, log_key)
    vectors = []
    for n, name in enumerate(WITNESSES):
        key = Ed25519PrivateKey.from_private_bytes(seed(name))
        timestamp = 1679315147 + n
        vectors.append(
            {
                "name": name,
                "seed": seed(name).hex(),
                "vkey": cosignature.cosigner_vkey(name, key),
                "timestamp": timestamp,
                "message": cosignature.signed_message(cp.body(), timestamp).decode(),
                "line": cosignature.cosign(cp.body(), name, key, timestamp),
            }
        )
    data = {
        "log": {
            "seed": LOG_SEED.hex(),
            "vkey": checkpoint.verifier_key(origin, log_key),
            "note": note,
        },
        "witnesses": vectors,
        "spec_example": {
            "line": "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5"
            "OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==",
            "key_id": "8d66cf3f",
            "timestamp": 1679315147,
        },
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
