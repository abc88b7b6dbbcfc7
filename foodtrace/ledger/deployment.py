"""Which TraceAnchor contract a log anchors into, and the refusals that keep it honest.

A log's contract is recorded in the ``deployments`` table the first time it is deployed (or
adopted from ``contract_address``), with the log registered pinning its key hash. After that
it is never silently replaced: a recorded contract with no code on the chain (a node that lost
its state, a database pointed at another chain) is a :class:`MissingContractError` unless the
operator asks for ``--redeploy``, and a contract pinning another log key is refused.
"""

from __future__ import annotations

from datetime import UTC, datetime

from eth_utils.address import to_checksum_address
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from foodtrace.config import Settings
from foodtrace.ledger.chain import Chain, ChainError
from foodtrace.ledger.contract import AnchorRefused, TraceAnchor, artifact, log_id
from foodtrace.ledger.models import LOST, Anchor, Deployment
from foodtrace.store import db


class MissingContractError(ChainError):
    """The contract recorded for this log has no code on the chain: the node lost its state,
    or the database points at another chain. Never papered over by a silent redeploy, which
    would anchor a new first root with no proof linking it to the old ones."""


def missing_contract(chain_id: int, address: str) -> MissingContractError:
    return MissingContractError(
        f"the TraceAnchor contract recorded for this log at {address} on chain {chain_id} has "
        "no code: restore the chain's state (or point FOODTRACE_CHAIN_URL at the right chain); "
        "only if that history is truly gone, run `foodtrace anchor --once --redeploy` to deploy "
        "a new contract and anchor the log again from a first root without proof"
    )


def check_pinned_key(on_chain: bytes, ours: bytes, address: str) -> None:
    """Refuse to anchor into a contract whose pinned log key is not the key we sign with."""
    if on_chain != ours:
        raise ChainError(
            f"the contract at {address} pins log key hash 0x{on_chain.hex()}, but this log "
            f"signs checkpoints with the key hashing to 0x{ours.hex()}: restore the log key "
            "file, or rotate the key on chain (owner: rotateLogKey)"
        )


def ensure_deployment(
    engine: Engine,
    chain: Chain,
    settings: Settings,
    *,
    create: bool = True,
    key_hash: bytes | None = None,
    redeploy: bool = False,
) -> Deployment:
    """The contract this log anchors into on ``chain``.

    Reused from the table when recorded; a recorded contract with no code is a
    :class:`MissingContractError` unless ``redeploy`` (then a new one is deployed and the old
    anchors are copied to it as ``lost`` so the anchorer sends them again). With nothing
    recorded, the configured ``contract_address`` is adopted or a contract is deployed, with
    the log registered pinning ``key_hash`` (:func:`foodtrace.trace.logkey.log_key_hash` of
    the log key) and the operator allowed to anchor. Readers pass ``create=False``: only the
    anchorer deploys."""
    log = log_id(settings.log_origin)
    with Session(db.writer_engine(engine), expire_on_commit=False) as session:
        query = select(Deployment).where(
            Deployment.chain_id == chain.chain_id,
            Deployment.log_id == log,
            Deployment.retired_at.is_(None),
        )
        if settings.contract_address:
            query = query.where(Deployment.contract_address == settings.contract_address)
        current = session.scalars(query.order_by(Deployment.id.desc())).first()
        session.commit()  # no transaction (SQLite write lock) held across chain calls
        if not create:
            if current is None:
                raise ChainError(
                    f"no TraceAnchor deployment recorded for chain {chain.chain_id}: "
                    "run `foodtrace anchor --once` first"
                )
            return current
        if key_hash is None:
            raise ValueError("creating a deployment needs the log key hash to pin")
        if current is not None:
            recorded = to_checksum_address(current.contract_address)
            if chain.w3.eth.get_code(recorded):
                pinned = TraceAnchor(chain, recorded).log_key_hash(log)
                check_pinned_key(pinned, key_hash, recorded)
                return current
            if not redeploy:
                raise missing_contract(chain.chain_id, recorded)
        deploy_tx: bytes | None = None
        if settings.contract_address and not redeploy:
            address = settings.contract_address
            if not chain.w3.eth.get_code(to_checksum_address(address)):
                raise ChainError(f"no contract at the configured address {address}")
        else:
            receipt = chain.transact({"data": artifact()["bytecode"]})
            if receipt["status"] != 1 or receipt["contractAddress"] is None:
                raise ChainError("deploying TraceAnchor failed")
            address, deploy_tx = receipt["contractAddress"], bytes(receipt["transactionHash"])
        anchor = TraceAnchor(chain, chain.w3.to_checksum_address(address))
        if anchor.owner() == chain.address:
            try:
                anchor.register_log(log, key_hash)
            except AnchorRefused as exc:
                if exc.name != "LogAlreadyRegistered":
                    raise
            if not anchor.is_anchorer(log, chain.address):
                anchor.set_anchorer(log, chain.address)
        check_pinned_key(anchor.log_key_hash(log), key_hash, anchor.address)
        fresh = Deployment(
            chain_id=chain.chain_id,
            contract_address=anchor.address,
            log_id=log,
            deploy_tx=deploy_tx,
        )
        session.add(fresh)
        session.flush()
        if current is not None:
            current.retired_at = datetime.now(UTC)
            old = session.scalars(select(Anchor).where(Anchor.deployment_id == current.id))
            for row in old:
                session.add(
                    Anchor(
                        deployment_id=fresh.id,
                        tree_size=row.tree_size,
                        root=row.root,
                        status=LOST,
                        submissions=0,
                    )
                )
        session.commit()
        return fresh
