"""Making a draw: propose the commitment, then, once its block exists, the result.

Commit: the server lists the candidates and inspectors and names a block ``blocks_ahead``
past the chain's head; the regulator signs that body (or the server signs it with the
regulator's custodial key). Result: when the block exists, its hash is read through the
chain client, the draw is run and a ``draw.result`` entry signed by the platform (the result
is mechanical: the projector re-runs it) is logged. A block mined before the commitment was
logged cannot seed it: its hash could have been known when the candidates were chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.draw import sampling, service
from foodtrace.draw.blocks import BlockSource
from foodtrace.draw.models import Draw
from foodtrace.draw.schemas import DrawRequest
from foodtrace.grading import policyfile
from foodtrace.grading.flows import platform_principal
from foodtrace.platformkey.signer import ensure_platform_author, platform_key
from foodtrace.record.service import RecordRef, submit
from foodtrace.store.log import MerkleLog
from foodtrace.trace import entry as entry_mod

SessionFactory = Callable[[], Session]


class NotYet(LookupError):
    """The seed block does not exist yet."""


class TooEarly(ValueError):
    """The seed block is older than the commitment (or the commitment names a past block)."""


class UnknownDraw(LookupError):
    pass


def propose(
    session: Session, request: DrawRequest, blocks: BlockSource, today: date
) -> dict[str, Any]:
    """The ``draw.commit`` body for ``request``."""
    policy = policyfile.load()
    return {
        "draw_id": request.draw_id,
        "period": request.period,
        "rule": request.rule.model_dump(mode="json", exclude_none=True),
        "prng": sampling.PRNG,
        "policy_version": policy.version,
        "weights": dict(policy.draw_weights),
        "candidates": [
            c.model_dump(mode="json") for c in service.candidates(session, request.rule, today)
        ],
        "inspectors": service.inspectors(session),
        "merchants_count": request.merchants_count,
        "inspectors_per_merchant": request.inspectors_per_merchant,
        "chain_id": blocks.chain_id(),
        "block_number": blocks.head() + request.blocks_ahead,
    }


def check_future_block(body: dict[str, Any], blocks: BlockSource) -> None:
    """Refuse a commitment whose block already exists, or that names another chain. A body
    without an integer block number is left to the body's validation (422)."""
    number = body.get("block_number")
    if not isinstance(number, int) or isinstance(number, bool):
        return
    head = blocks.head()
    if number <= head:
        raise TooEarly(
            f"expected a block after the chain's head {head}, got {body.get('block_number')}"
        )
    if body.get("chain_id") != blocks.chain_id():
        raise TooEarly(f"expected chain id {blocks.chain_id()}, got {body.get('chain_id')}")


def result(
    log: MerkleLog,
    session_factory: SessionFactory,
    settings: Settings,
    draw_id: str,
    blocks: BlockSource,
) -> RecordRef:
    """Log the result of ``draw_id`` from its seed block (:class:`NotYet` if not mined)."""
    with session_factory() as session:
        row = session.get(Draw, draw_id)
        if row is None:
            raise UnknownDraw(f"no draw {draw_id} is committed")
        commitment, commit_index = dict(row.commitment), row.commit_entry_index
    block = blocks.block(int(commitment["block_number"]))
    if block is None:
        raise NotYet(f"block {commitment['block_number']} is not mined yet (head {blocks.head()})")
    committed_at = log.record(commit_index).entry().issued_datetime()
    if block.timestamp < int(committed_at.timestamp()):
        raise TooEarly(
            f"block {block.number} is older than the commitment ({committed_at.isoformat()})"
        )
    picks = sampling.run(commitment, block.hash)
    body = {
        "draw_id": draw_id,
        "commit_entry_index": commit_index,
        "block_number": block.number,
        "block_hash": block.hash,
        "block_timestamp": block.timestamp,
        "merchants": [p.to_json() for p in picks],
    }
    key = platform_key(settings)
    with session_factory() as session, session.begin():
        ensure_platform_author(session, settings.platform_author, key)
    entry = entry_mod.sign(
        key, type=service.RESULT_TYPE, author=settings.platform_author, body=body
    )
    [ref] = submit(log, session_factory, platform_principal(settings), [entry])
    return ref
