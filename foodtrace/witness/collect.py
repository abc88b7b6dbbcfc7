"""The log's side of witnessing: submit each new checkpoint to every configured witness with a
consistency proof from the size that witness last cosigned, keep the cosignatures, and add
them to the checkpoint notes the log serves.

Witnesses are configured as ``FOODTRACE_WITNESSES``: comma-separated ``<vkey>@<URL prefix>``
items (the witness's cosignature verifier key and its submission prefix). Every returned
line is verified against that key before it is stored, so a witness endpoint that answers
with junk, or someone else's key, adds nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from foodtrace.store.checkpoints import SignedCheckpoint
from foodtrace.store.log import MerkleLog
from foodtrace.trace.cosignature import add_cosignatures, cosignatures, parse_cosigner_vkey
from foodtrace.trace.errors import CheckpointError
from foodtrace.trace.witnessing import SIZE_CONTENT_TYPE, AddCheckpoint
from foodtrace.witness.models import WitnessCosignature

TIMEOUT_S = 10.0
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    vkey: str
    url: str

    @property
    def name(self) -> str:
        return parse_cosigner_vkey(self.vkey).name


def parse_endpoints(text: str) -> list[Endpoint]:
    """``<vkey>@<url>`` items separated by commas (a vkey never contains ``@`` or ``,``)."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        vkey, sep, url = item.partition("@")
        if not sep or not url.startswith(("http://", "https://")):
            raise ValueError(f"witness {item[:60]!r}: expected <vkey>@<http(s) URL prefix>")
        parse_cosigner_vkey(vkey)
        out.append(Endpoint(vkey.strip(), url.strip().rstrip("/")))
    return out


@dataclass(frozen=True)
class Outcome:
    witness: str
    size: int
    status: str  # cosigned, refused or unreachable
    detail: str = ""


def last_cosigned(engine: Engine, witness: str, at_most: int) -> int:
    with Session(engine) as session:
        found = session.scalar(
            select(WitnessCosignature.tree_size)
            .where(WitnessCosignature.witness == witness)
            .where(WitnessCosignature.tree_size <= at_most)
            .order_by(WitnessCosignature.tree_size.desc())
            .limit(1)
        )
    return int(found) if found is not None else 0


def _store(engine: Engine, witness: str, size: int, line: str) -> None:
    values = {"witness": witness, "tree_size": size, "line": line}
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(WitnessCosignature).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["witness", "tree_size"], set_={"line": stmt.excluded.line}
    )
    with Session(engine) as session, session.begin():
        session.execute(stmt)


def submit(log: MerkleLog, cp: SignedCheckpoint, ep: Endpoint, http: httpx.Client) -> Outcome:
    """Ask one witness to cosign ``cp``; on 409 retry once from the size it says it has."""
    old = last_cosigned(log.engine, ep.name, cp.size)
    for _ in range(2):
        proof = log.consistency_proof(old, cp.size) if 0 < old < cp.size else []
        body = AddCheckpoint(old, tuple(proof), cp.note).encode()
        try:
            answer = http.post(f"{ep.url}/add-checkpoint", content=body)
        except httpx.HTTPError as exc:
            return Outcome(ep.name, cp.size, "unreachable", str(exc))
        kind = answer.headers.get("content-type", "").split(";")[0].strip()
        if answer.status_code == 409 and kind == SIZE_CONTENT_TYPE:
            known = int(answer.text.strip())
            if known > cp.size or known == old:
                return Outcome(ep.name, cp.size, "refused", f"409: witness is at size {known}")
            old = known
            continue
        if answer.status_code != 200:
            return Outcome(ep.name, cp.size, "refused", f"{answer.status_code}: {answer.text}")
        try:
            signed = add_cosignatures(cp.note, answer.text.splitlines())
            if ep.name not in {c.name for c in cosignatures(signed, [ep.vkey])}:
                raise CheckpointError("no cosignature by the configured key")
        except CheckpointError as exc:
            return Outcome(ep.name, cp.size, "refused", f"bad answer: {exc}")
        mine = next(
            line
            for line in answer.text.splitlines()
            if cosignatures(add_cosignatures(cp.note, [line]), [ep.vkey])
        )
        _store(log.engine, ep.name, cp.size, mine)
        return Outcome(ep.name, cp.size, "cosigned")
    return Outcome(ep.name, cp.size, "refused", "409 twice")


def collect(
    log: MerkleLog,
    endpoints: Sequence[Endpoint],
    checkpoint: SignedCheckpoint | None = None,
    http: httpx.Client | None = None,
) -> list[Outcome]:
    """Submit ``checkpoint`` (default: the latest, issued if none) to every witness."""
    cp = checkpoint or log.latest_checkpoint() or log.issue_checkpoint()
    client = http or httpx.Client(timeout=TIMEOUT_S)
    try:
        outcomes = [submit(log, cp, ep, client) for ep in endpoints]
    finally:
        if http is None:
            client.close()
    for o in outcomes:
        if o.status != "cosigned":
            logger.warning("witness %s did not cosign size %d: %s", o.witness, o.size, o.detail)
    return outcomes


def cosigned_note(engine: Engine, note: str, witnesses: Sequence[str] | None = None) -> str:
    """``note`` with the stored cosignatures for its size (by ``witnesses`` if given)."""
    size = int(note.split("\n", 2)[1])
    query = select(WitnessCosignature.line).where(WitnessCosignature.tree_size == size)
    if witnesses is not None:
        query = query.where(WitnessCosignature.witness.in_(list(witnesses)))
    with Session(engine) as session:
        lines = list(session.scalars(query.order_by(WitnessCosignature.witness)))
    return add_cosignatures(note, lines) if lines else note


def largest_cosigned(engine: Engine, witnesses: Sequence[str]) -> int | None:
    """The largest checkpoint size any of ``witnesses`` cosigned (None: none yet)."""
    with Session(engine) as session:
        found = session.scalar(
            select(func.max(WitnessCosignature.tree_size)).where(
                WitnessCosignature.witness.in_(list(witnesses))
            )
        )
    return int(found) if found is not None else None
