"""Talking to a FoodTrace server. Nothing it answers is trusted: everything is verified.

The code's own URL is asked first with ``Accept: application/json`` (the resolver answers a
code with its records and their proofs). When the resolver has no JSON for it, the scanner
falls back to the REST reads for the code's subject: a merchant's party record and its
licences, a lot's record and its test reports. Either way what comes back is a list of
record proofs (``{"index", "entry", "leaf_hash", "proof", ...}``), found wherever they sit
in the answer.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from foodtrace.scanner.revocations import LogScanError, bundle_widths, parse_bundle
from foodtrace.trace.codes import Code, Lot, Merchant
from foodtrace.trace.tlog_tiles import TileRef

API = "/api/v1"
TLOG = "/tlog"
TIMEOUT_S = 10.0
JSON = "application/json"


class ServerError(LookupError):
    """The server did not answer what was asked (unreachable, an error status, not JSON)."""


@dataclass(frozen=True)
class Resolved:
    """The record proofs a server gave for a code, and which route gave them; with the
    resolver's evidence (``author_keys``, ``evidence``: the key lists of the records'
    authors, and record proofs by index for their registrations and revocations), the
    scanner needs no further request for the authors' keys."""

    records: list[dict[str, Any]]
    via: str
    author_keys: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    evidence: dict[int, dict[str, Any]] = field(default_factory=dict)
    verifier_key: str = ""  # the log key the server says it signs with (checked on chain)
    # Shown records signed by the platform's key: verified like any author's (its key is
    # registered by a logged ``platform.key.register``); one without a proof fails the scan.
    platform_signed: tuple[int, ...] = ()
    # The server's latest checkpoint, and consistency proofs to it from the sizes the
    # records are proved in: checked against the checkpoints this client saw before.
    latest: str = ""
    latest_consistency: dict[int, list[bytes]] = field(default_factory=dict)


def _with_evidence(answer: dict[str, Any]) -> Resolved | None:
    """The resolver's one-answer form: ``records`` (indices), ``proofs`` (the compact proofs
    of those records and of the key evidence) and ``author_keys``."""
    proofs, listed, keys = answer.get("proofs"), answer.get("records"), answer.get("author_keys")
    if not (isinstance(proofs, dict) and isinstance(listed, list) and isinstance(keys, list)):
        return None
    try:
        proved = {r["index"]: r for r in _leaf_records(proofs)}
        shown = [proved[i] for i in dict.fromkeys(r["index"] for r in listed) if i in proved]
        author_keys = {(str(k["party_id"]), str(k["key_id"])): k for k in keys}
    except (KeyError, TypeError):
        return None
    vkey = proofs.get("verifier_key")
    platform = answer.get("platform_signed")
    head, tied = _latest(answer.get("latest"))
    return Resolved(
        shown,
        "resolver",
        author_keys,
        proved,
        vkey if isinstance(vkey, str) else "",
        tuple(i for i in platform if isinstance(i, int)) if isinstance(platform, list) else (),
        head,
        tied,
    )


def _latest(answer: Any) -> tuple[str, dict[int, list[bytes]]]:
    """``{"checkpoint": note, "consistency": {size: [b64 hash, ...]}}``, or nothing usable."""
    if not isinstance(answer, dict) or not isinstance(answer.get("checkpoint"), str):
        return "", {}
    try:
        proofs = {
            int(size): [base64.b64decode(h, validate=True) for h in hashes]
            for size, hashes in (answer.get("consistency") or {}).items()
        }
    except (AttributeError, TypeError, ValueError, binascii.Error):
        return "", {}
    return answer["checkpoint"], proofs


def _leaf_records(answer: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The resolver's compact form, as record proofs: ``{"records": [{"index", "data" (the
    exact leaf data), "proof": [...], "checkpoint": size}], "checkpoints": {size: note}}``.
    The data is left as text: the entry step parses it (a record that is not JSON fails
    there), and a shown record is parsed once, not once here and once there."""
    notes = answer["checkpoints"]
    for r in answer["records"]:
        try:
            data, note = r["data"], notes[str(r["checkpoint"])]
        except (KeyError, TypeError):
            continue
        if not isinstance(data, str):
            continue
        proof = {"index": r["index"], "proof": r["proof"], "checkpoint": note}
        yield {"index": r["index"], "data": data, "proof": proof}


def record_proofs(answer: Any) -> Iterator[dict[str, Any]]:
    """Every record proof anywhere in a JSON answer, in document order."""
    if isinstance(answer, dict):
        if isinstance(answer.get("records"), list) and isinstance(answer.get("checkpoints"), dict):
            yield from _leaf_records(answer)
            return
        proof = answer.get("proof")
        if isinstance(answer.get("entry"), dict) and isinstance(proof, dict) and "index" in answer:
            yield answer
            return
        for value in answer.values():
            yield from record_proofs(value)
    elif isinstance(answer, list):
        for value in answer:
            yield from record_proofs(value)


def _unique(records: Iterator[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[Any, dict[str, Any]] = {}
    for r in records:
        seen.setdefault(r.get("index"), r)
    return list(seen.values())


class Server:
    """One server, reached at ``base_url`` (the code's resolver, or ``--server``)."""

    def __init__(self, base_url: str, *, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=True)

    def close(self) -> None:
        self._client.close()

    def get_json(self, path: str, *, missing_ok: bool = False) -> Any:
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        try:
            response = self._client.get(url, headers={"Accept": JSON})
        except httpx.HTTPError as exc:
            raise ServerError(f"GET {url}: {exc}") from exc
        if missing_ok and response.status_code in (404, 405, 406):
            return None
        if response.status_code != 200:
            raise ServerError(f"GET {url}: HTTP {response.status_code}")
        if "json" not in response.headers.get("content-type", ""):
            if missing_ok:
                return None
            raise ServerError(
                f"GET {url}: expected JSON, got {response.headers.get('content-type')}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(f"GET {url}: not JSON: {exc}") from exc

    def resolve(self, code: Code) -> Resolved:
        """The records the server shows for a code (resolver JSON, else the REST reads)."""
        answer = self.get_json(f"{code.subject.path()}?s={code.token}", missing_ok=True)
        full = _with_evidence(answer) if isinstance(answer, dict) else None
        if full is not None and full.records:
            return full
        records = _unique(record_proofs(answer)) if answer is not None and full is None else []
        if records:
            return Resolved(records, "resolver")
        subject = code.subject
        if isinstance(subject, Merchant):
            party = quote(subject.merchant_id, safe="")
            paths = [f"{API}/parties/{party}", f"{API}/parties/{party}/licences"]
        elif isinstance(subject, Lot):
            lot = f"{subject.gtin}/{quote(subject.lot, safe='')}"
            paths = [f"{API}/lots/{lot}", f"{API}/lots/{lot}/reports"]
        else:
            return Resolved([], "resolver (no JSON for serial codes, and no REST fallback)")
        found: list[dict[str, Any]] = []
        for i, path in enumerate(paths):
            answer = self.get_json(path, missing_ok=i > 0)
            found += record_proofs(answer)
        return Resolved(_unique(iter(found)), "api (resolver had no JSON)")

    def record(self, index: int) -> dict[str, Any]:
        answer = self.get_json(f"{API}/records/{index}")
        if not isinstance(answer, dict):
            raise ServerError(f"record {index}: expected a JSON object")
        return answer

    def party(self, party_id: str) -> dict[str, Any]:
        answer = self.get_json(f"{API}/parties/{quote(party_id, safe='')}")
        record = answer.get("record") if isinstance(answer, dict) else None
        if not isinstance(record, dict):
            raise ServerError(f"party {party_id}: expected {{'record': {{...}}}}")
        return record

    def entries(self, size: int) -> list[bytes]:
        """The log's first ``size`` entries, as tlog-tiles entry bundles (unverified: see
        :func:`foodtrace.scanner.revocations.from_entries`)."""
        out: list[bytes] = []
        for index, width in bundle_widths(size):
            url = f"{self.base_url}{TLOG}/{TileRef(None, index, width).path}"
            try:
                response = self._client.get(url)
            except httpx.HTTPError as exc:
                raise ServerError(f"GET {url}: {exc}") from exc
            if response.status_code != 200:
                raise ServerError(f"GET {url}: HTTP {response.status_code}")
            try:
                bundle = parse_bundle(response.content)
            except LogScanError as exc:
                raise ServerError(f"GET {url}: {exc}") from exc
            if len(bundle) != width:
                raise ServerError(f"GET {url}: {len(bundle)} entries, expected {width}")
            out += bundle
        return out

    def consistency(self, size1: int, size2: int) -> list[bytes]:
        answer = self.get_json(f"{API}/log/consistency?from={size1}&to={size2}")
        try:
            return [base64.b64decode(h, validate=True) for h in answer["proof"]]
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            raise ServerError(f"consistency proof {size1}→{size2}: malformed: {exc}") from exc
