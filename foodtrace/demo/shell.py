"""The shell of ``foodtrace demo``: migrate, seed once, anchor, write the QR codes, print
where to look."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from foodtrace.config import Settings
from foodtrace.demo.cast import (
    BY_KEY,
    CST,
    REGULATOR,
    REGULATOR_KEY_FILE,
    SCAN_STATE_FILE,
    STATE_FILE,
    lots,
)
from foodtrace.demo.seeding import Api, DemoError, seed

# --- the shell -------------------------------------------------------------------------------


@dataclass
class Summary:
    base_url: str
    verifier_key: str
    contract_address: str | None
    chain_size: int | None
    log_size: int
    qr: list[tuple[Path, str]]
    seeded_now: bool
    state_file: Path
    today: date
    authority_key: str = ""  # base64 public key of the code authority
    chain_rpc_url: str = ""  # where other programs read the (embedded) chain
    data_dir: Path = Path()
    workbench: dict[str, str] = field(default_factory=dict)  # inspector → workbench token
    witness_key: str = ""  # the demo's own witness (foodtrace/witness/demo.py)


def demo_settings(data_dir: Path, port: int) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url="",
        chain_url="",
        contract_address="",
        public_base_url=f"http://127.0.0.1:{port}",
        host="127.0.0.1",
        port=port,
    )


def seeding_settings(settings: Settings) -> Settings:
    """The settings the demo is seeded with: a bulk load, so no regrade on write (each batch
    would regrade the businesses it touched, only for the next batch to move their grades
    again). The city is graded once at the end; the demo server regrades on write."""
    return settings.model_copy(update={"grade_recompute_on_write": False})


def _is_seeded(settings: Settings) -> bool:
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from foodtrace.party.models import Party

    engine = create_engine(settings.resolved_database_url)
    try:
        with Session(engine) as session:
            return (
                session.scalar(select(Party.party_id).where(Party.kind == "regulator")) is not None
            )
    finally:
        engine.dispose()


def prepare(data_dir: Path, port: int = 8000, reset: bool = False) -> Summary:
    """Migrate, seed if empty, anchor once, write the QR codes; return what to print."""
    import warnings

    with warnings.catch_warnings():  # starlette's notice about httpx, not ours to act on
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from foodtrace.api.app import create_app
    from foodtrace.demo.city import seed_city
    from foodtrace.ledger.anchorer import Anchorer
    from foodtrace.party.service import init_regulator
    from foodtrace.store.db import migrate, redacted
    from foodtrace.store.log import MerkleLog
    from foodtrace.trace import keys

    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = demo_settings(data_dir, port)
    migrate(settings.resolved_database_url)
    state_file = data_dir / STATE_FILE
    seeded_now = False
    if _is_seeded(settings) and state_file.exists():
        today = date.fromisoformat(json.loads(state_file.read_text("utf-8"))["seeded_on"])
    elif _is_seeded(settings):
        raise DemoError(f"{data_dir} holds data that is not the demo's: use --reset or another dir")
    else:
        today = datetime.now(CST).date()
        with MerkleLog(settings=settings, migrate=False) as log:
            boot = init_regulator(
                log,
                party_id=REGULATOR.credit_code,
                name=REGULATOR.name,
                credit_code=REGULATOR.credit_code,
                key_file=data_dir / REGULATOR_KEY_FILE,
                region=REGULATOR.region,
            )
        app = create_app(seeding_settings(settings), run_anchorer=False)
        with TestClient(app, base_url=settings.public_base_url) as client:
            api = Api(client, {"regulator": boot.token})
            seeded = seed(api, settings, today)
            town = seed_city(
                api,
                app.state.log,
                app.state.sessions,
                settings,
                REGULATOR.credit_code,
                keys.read_private(data_dir / REGULATOR_KEY_FILE),
                today,
            )
        tokens = {f"{BY_KEY[k].credit_code} ({k})": t for k, t in seeded.tokens.items()}
        state_file.write_text(
            json.dumps(
                {
                    "seeded_on": today.isoformat(),
                    "tokens": tokens,
                    "workbench": town.inspector_tokens,
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        state_file.chmod(0o600)
        seeded_now = True

    with MerkleLog(settings=settings, migrate=False) as log:
        anchorer = Anchorer(log, settings)
        try:
            if not anchorer.lock.try_acquire():
                raise DemoError(
                    f"another process is anchoring {redacted(settings.resolved_database_url)}"
                )
            anchorer.run_once(force=True)
            contract = anchorer.deployment.contract_address if anchorer.deployment else None
            chain_size = None
            if anchorer.chain is not None and contract is not None:
                from foodtrace.ledger.contract import TraceAnchor

                anchor = TraceAnchor(
                    anchorer.chain, anchorer.chain.w3.to_checksum_address(contract)
                )
                chain_size = anchor.latest(anchorer.deployment.log_id)[0]  # type: ignore[union-attr]
        finally:
            anchorer.close()
        verifier = log.verifier_key()
        log_size = log.size()
        from foodtrace.witness import demo as demo_witness

        witness_key = demo_witness.prepare(data_dir, log)

    qr = write_codes(settings, today)
    from foodtrace.store.keyfiles import load_or_create_key

    authority = load_or_create_key(settings.resolved_code_authority_key_file)
    return Summary(
        settings.public_base_url,
        verifier,
        contract,
        chain_size,
        log_size,
        qr,
        seeded_now,
        state_file,
        today,
        keys.public_to_b64(authority),
        settings.chain_public_url,
        data_dir,
        json.loads(state_file.read_text("utf-8")).get("workbench", {}),
        witness_key=witness_key,
    )


def write_codes(settings: Settings, today: date) -> list[tuple[Path, str]]:
    """The restaurant's merchant code and the lots' codes as PNGs under ``data_dir/qr``."""
    from foodtrace.qr.render import render_png
    from foodtrace.store.keyfiles import load_or_create_key
    from foodtrace.trace.codes import Code, lot_code, merchant_code

    key = load_or_create_key(settings.resolved_code_authority_key_file)
    base = settings.public_base_url
    codes: list[tuple[str, Code]] = [
        ("merchant-restaurant", merchant_code(base, BY_KEY["restaurant"].credit_code, key))
    ]
    codes += [
        (f"lot-{lot.lot_code}", lot_code(base, lot.gtin, lot.lot_code, key)) for lot in lots(today)
    ]
    folder = settings.data_dir / "qr"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, code in codes:
        path = folder / f"{name}.png"
        path.write_bytes(render_png(code.qr_text, caption=code.human_text))
        written.append((path, code.url))
    return written


def summary_lines(s: Summary) -> list[str]:
    """What the command prints: where to look."""
    b = s.base_url
    rest = BY_KEY["restaurant"].credit_code
    cucumber, tomato, salad = lots(s.today)
    lines = [
        "FoodTrace demo " + ("seeded" if s.seeded_now else "already seeded (reusing data)"),
        f"  log size            {s.log_size} entries",
        f"  log verifier key    {s.verifier_key}",
        f"  contract (embedded) {s.contract_address}  anchored size {s.chain_size}",
        f"  API tokens          {s.state_file}",
        "",
        f"API docs          {b}/docs",
        f"a record + proof  {b}/api/v1/records/0",
        f"the restaurant    {b}/api/v1/parties/{rest}",
        f"its licences      {b}/api/v1/parties/{rest}/licences",
        f"its inspections   {b}/api/v1/parties/{rest}/inspections",
        f"its grades        {b}/api/v1/parties/{rest}/grades",
        f"a lot             {b}/api/v1/lots/{cucumber.gtin}/{cucumber.lot_code}",
        f"its test reports  {b}/api/v1/lots/{cucumber.gtin}/{cucumber.lot_code}/reports",
        f"processed lot     {b}/epcis/lots/{salad.lot_code}",
        f"recalled lot      {b}/epcis/lots/{tomato.lot_code}",
        f"EPCIS query       {b}/epcis/events?EQ_bizStep=shipping",
        f"recalled events   {b}/epcis/events?EQ_disposition=recalled",
        f"recall cases      {b}/api/v1/recalls  (case page: {b}/recalls/{{id}})",
        f"FSMA 204 sheet    {b}/api/v1/lots/{tomato.gtin}/{tomato.lot_code}/fsma204.xlsx",
        "",
        "The inspector's workbench (a phone-sized browser is best):",
        f"  {b}/workbench/login",
    ]
    lines += [f"  token of {who}: {token}" for who, token in s.workbench.items()]
    lines += [
        "",
        "QR codes (PNG → URL it encodes):",
    ]
    lines += [f"  {path}\n    {url}" for path, url in s.qr]
    if s.witness_key:
        from urllib.parse import quote

        page = next(url for path, url in s.qr if path.stem == "merchant-restaurant")
        lines += [
            "",
            "The page with the demo witness pinned (k = 1; the pin rides in the link's #fragment):",
            f"  {page}#w={quote(s.witness_key, safe='')}&k=1",
            "The demo witness is run by this same server: it shows the flow and proves nothing.",
        ]
    command = scan_command(s)
    if command:
        lines += [
            "",
            "Verify these codes yourself (trusting only these pins), while the demo serves:",
            f"  {command}",
            "The embedded chain is run by this same server, through "
            f"{s.chain_rpc_url}: it is for trying",
            "things. Independence needs a chain the operator does not control.",
        ]
    return lines


def scan_command(s: Summary) -> str:
    """The ``foodtrace-scan`` command line with every pin that verifies the printed codes
    (its own state file, so an earlier demo's checkpoints do not count as another history)."""
    import shlex

    if not (s.contract_address and s.authority_key and s.chain_rpc_url):
        return ""
    args = [
        "foodtrace-scan",
        "--authority-key",
        s.authority_key,
        "--log-key",
        s.verifier_key,
        "--rpc",
        s.chain_rpc_url,
        "--contract",
        s.contract_address,
        "--state",
        str((s.data_dir / SCAN_STATE_FILE).resolve()),
        *(("--witness", s.witness_key, "--witnesses-required", "1") if s.witness_key else ()),
        str((s.data_dir / "qr").resolve()),
    ]
    return shlex.join(args)
