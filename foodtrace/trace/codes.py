"""食安码: merchant codes and GS1 Digital Link lot/serial codes, signed for offline checks.

A code is a URL on the service's own resolver that also carries an Ed25519 signature of the
issuing authority, so a scanner can tell a genuine code from a forged one without a network:

    merchant  {base}/M/{merchant_id}?s={token}
    lot       {base}/01/{GTIN-14}/10/{lot}?s={token}
    serial    {base}/01/{GTIN-14}/21/{serial}?s={token}

Decisions, and why:

* The signed message names the subject only: ``ft1|m|{merchant_id}``,
  ``ft1|01|{gtin}|10|{lot}`` or ``ft1|01|{gtin}|21|{serial}`` (ASCII; ``|`` is in neither the
  GS1 character set 82 nor the merchant-id alphabet, so the split is unambiguous). It does not
  include the resolver's host: printed labels outlive domain names, and a code must stay valid
  when the resolver moves. Leaving the host out costs nothing, because a signature cannot stop
  copying anyway (anyone can photocopy a genuine label, host and all); that a URL points at a
  trusted resolver is a separate check for the scanner, and clone detection is the server's job
  (scan counts per code). The ``ft1`` prefix separates these signatures from every other thing
  the same key might sign (JCS entries start with ``{``, checkpoint notes with an origin line).
* The token is ``base32(key_id[4] || signature[64])``, RFC 4648 upper case without padding:
  109 characters. Upper-case base32 uses only QR *alphanumeric* mode characters (5.5 bits a
  character) where base64url forces byte mode (8 bits): the signature costs 600 bits instead of
  728. With the scheme and host also written in upper case (both case-insensitive by RFC 3986)
  nearly the whole payload is alphanumeric, and a lot code fits QR version 7 at level M
  (45x45 modules) where base64url needs version 8.
* The 4-byte key id (first 4 bytes of SHA-256 of the raw public key, a prefix of
  :func:`foodtrace.trace.keys.key_id`) lets authority keys rotate: a verifier holds several.
* Lot (AI 10) and serial (AI 21) values are 1-20 characters of the GS1 AI encodable character
  set 82, percent-encoded in the path (everything outside RFC 3986 *unreserved*). GTINs are
  accepted as GTIN-8/12/13/14, check digit validated, and written as 14 digits per GS1 Digital
  Link. A lot code and a serial code are separate kinds; ``/10/{lot}/21/{serial}`` together
  is not supported.

:func:`parse_code` raises only :class:`CodeError` (naming the field and what was expected);
:func:`verify_code` raises :class:`~foodtrace.trace.errors.SignatureError` for a forged code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from stdnum import ean

from foodtrace.trace import identifiers, keys
from foodtrace.trace.errors import SignatureError

CODE_VERSION = "ft1"
SIGNATURE_PARAM = "s"
MERCHANT_SEGMENT = "M"
AI_GTIN = "01"
AI_LOT = "10"
AI_SERIAL = "21"
CODE_KEY_ID_BYTES = 4
SIGNATURE_BYTES = 64
TOKEN_BYTES = CODE_KEY_ID_BYTES + SIGNATURE_BYTES
TOKEN_CHARS = -(-TOKEN_BYTES * 8 // 5)  # 109
MAX_CODE_CHARS = 1024
GS1_VALUE_MAX = 20
MERCHANT_ID_MAX = 64

# GS1 General Specifications, AI encodable character set 82.
GS1_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_MERCHANT_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_GTIN_LENGTHS = (8, 12, 13, 14)
_HEX = frozenset("0123456789ABCDEFabcdef")


class CodeError(ValueError):
    """A code, or a value meant for one, is malformed; ``field`` names what was wrong."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class CodeKind(StrEnum):
    MERCHANT = "merchant"
    LOT = "lot"
    SERIAL = "serial"


def _check_gs1_value(field: str, value: str) -> None:
    if not 1 <= len(value) <= GS1_VALUE_MAX:
        raise CodeError(field, f"expected 1-{GS1_VALUE_MAX} characters, got {len(value)}")
    bad = sorted({c for c in value if c not in GS1_CSET82})
    if bad:
        raise CodeError(field, f"characters outside GS1 character set 82: {''.join(bad)!r}")


def _check_gtin14(gtin: str) -> None:
    if len(gtin) != 14 or not gtin.isascii() or not gtin.isdigit():
        raise CodeError("gtin", f"expected 14 digits, got {gtin!r:.40}")
    if not ean.is_valid(gtin):
        raise CodeError("gtin", f"check digit of {gtin} is wrong")


def normalize_gtin(gtin: str) -> str:
    """A GTIN-8/12/13/14 with a valid check digit, as the 14 digits GS1 Digital Link uses.

    Stricter than :func:`identifiers.gtin` about spelling (digits only, nothing to compact):
    a URL path or a label must already be in normal form."""
    if not (gtin.isascii() and gtin.isdigit() and len(gtin) in _GTIN_LENGTHS):
        raise CodeError("gtin", f"expected 8, 12, 13 or 14 digits, got {gtin!r:.40}")
    try:
        return identifiers.gtin(gtin)
    except identifiers.IdentifierError as exc:
        raise CodeError("gtin", f"check digit of {gtin} is wrong") from exc


def _pct_encode(value: str) -> str:
    return "".join(c if c in _UNRESERVED else f"%{ord(c):02X}" for c in value)


def _pct_decode(field: str, text: str) -> str:
    """Strict percent-decoding: every ``%`` starts two hex digits; the result is ASCII."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%":
            pair = text[i + 1 : i + 3]
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise CodeError(field, f"bad percent-escape at position {i} of {text!r}")
            out.append(chr(int(pair, 16)))
            i += 3
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Merchant:
    """A shop or site; one merchant code each."""

    merchant_id: str

    def __post_init__(self) -> None:
        if not _MERCHANT_ID.fullmatch(self.merchant_id):
            raise CodeError(
                "merchant_id",
                f"expected 1-{MERCHANT_ID_MAX} of A-Z a-z 0-9 . _ - starting with a letter or "
                f"digit, got {self.merchant_id!r}",
            )

    @property
    def kind(self) -> CodeKind:
        return CodeKind.MERCHANT

    def path(self) -> str:
        return f"/{MERCHANT_SEGMENT}/{self.merchant_id}"

    def message(self) -> bytes:
        return f"{CODE_VERSION}|m|{self.merchant_id}".encode("ascii")

    def human_text(self) -> str:
        return self.merchant_id


@dataclass(frozen=True)
class Lot:
    """A production lot of a trade item: GS1 AI (01) GTIN-14 with AI (10) batch/lot."""

    gtin: str
    lot: str

    def __post_init__(self) -> None:
        _check_gtin14(self.gtin)
        _check_gs1_value("lot", self.lot)

    @property
    def kind(self) -> CodeKind:
        return CodeKind.LOT

    def path(self) -> str:
        return f"/{AI_GTIN}/{self.gtin}/{AI_LOT}/{_pct_encode(self.lot)}"

    def message(self) -> bytes:
        return f"{CODE_VERSION}|{AI_GTIN}|{self.gtin}|{AI_LOT}|{self.lot}".encode("ascii")

    def human_text(self) -> str:
        return f"(01){self.gtin}(10){self.lot}"


@dataclass(frozen=True)
class Serial:
    """One serialised item: GS1 AI (01) GTIN-14 with AI (21) serial number."""

    gtin: str
    serial: str

    def __post_init__(self) -> None:
        _check_gtin14(self.gtin)
        _check_gs1_value("serial", self.serial)

    @property
    def kind(self) -> CodeKind:
        return CodeKind.SERIAL

    def path(self) -> str:
        return f"/{AI_GTIN}/{self.gtin}/{AI_SERIAL}/{_pct_encode(self.serial)}"

    def message(self) -> bytes:
        return f"{CODE_VERSION}|{AI_GTIN}|{self.gtin}|{AI_SERIAL}|{self.serial}".encode("ascii")

    def human_text(self) -> str:
        return f"(01){self.gtin}(21){self.serial}"


Subject = Merchant | Lot | Serial


def normalize_base_url(base_url: str) -> str:
    """The resolver base as ``scheme://host[:port][/prefix]``: lower-case scheme and host.

    Prefix path segments must be RFC 3986 *unreserved* text so a parser can tell them from
    the code's own segments; no query, fragment or user info.
    """
    parts = _split("base_url", base_url)
    if parts.query or parts.fragment:
        raise CodeError("base_url", f"expected no query or fragment in {base_url!r}")
    prefix = parts.path.rstrip("/")
    for seg in prefix.split("/")[1:]:
        if not seg or not set(seg) <= _UNRESERVED:
            raise CodeError("base_url", f"path segment {seg!r} is empty or needs escaping")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{prefix}"


def _split(field: str, text: str) -> SplitResult:
    if not text.isascii() or not text.isprintable() or " " in text:
        raise CodeError(field, "expected printable ASCII without spaces")
    try:
        parts = urlsplit(text)
        port = parts.port  # parses, and raises ValueError for a bad port
    except ValueError as exc:
        raise CodeError(field, f"not a URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise CodeError(field, f"expected an http or https URL, got scheme {parts.scheme!r}")
    if not parts.hostname or "@" in parts.netloc:
        raise CodeError(field, "expected a host name and no user info")
    if port == 0:
        raise CodeError(field, "port 0 is not a valid port")
    return parts


def code_key_id(key: Ed25519PublicKey | Ed25519PrivateKey | bytes) -> bytes:
    """The 4-byte key id a code carries: a prefix of :func:`keys.key_id`'s SHA-256."""
    raw = key if isinstance(key, bytes) else keys.public_bytes(key)
    return hashlib.sha256(raw).digest()[:CODE_KEY_ID_BYTES]


@dataclass(frozen=True)
class Code:
    """A signed code: resolver base, subject, authority key id and Ed25519 signature."""

    base_url: str
    subject: Subject
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        if normalize_base_url(self.base_url) != self.base_url:
            raise CodeError("base_url", f"not normalized: {self.base_url!r}")
        if len(self.key_id) != CODE_KEY_ID_BYTES:
            raise CodeError("key_id", f"expected {CODE_KEY_ID_BYTES} bytes")
        if len(self.signature) != SIGNATURE_BYTES:
            raise CodeError("signature", f"expected {SIGNATURE_BYTES} bytes")

    @property
    def kind(self) -> CodeKind:
        return self.subject.kind

    @property
    def token(self) -> str:
        """``base32(key_id || signature)``, upper case, unpadded."""
        return base64.b32encode(self.key_id + self.signature).decode("ascii").rstrip("=")

    @property
    def url(self) -> str:
        """The canonical URL: lower-case scheme and host, for links and the API."""
        return f"{self.base_url}{self.subject.path()}?{SIGNATURE_PARAM}={self.token}"

    @property
    def qr_text(self) -> str:
        """The QR payload: as :attr:`url` with scheme and host in upper case (denser QR)."""
        scheme, rest = self.base_url.split("://", 1)
        host, slash, prefix = rest.partition("/")
        base = f"{scheme.upper()}://{host.upper()}{slash}{prefix}"
        return f"{base}{self.subject.path()}?{SIGNATURE_PARAM}={self.token}"

    @property
    def human_text(self) -> str:
        """Text to print beside the QR: the GS1 element string or the merchant id."""
        return self.subject.human_text()


def sign_code(base_url: str, subject: Subject, key: Ed25519PrivateKey) -> Code:
    return Code(
        base_url=normalize_base_url(base_url),
        subject=subject,
        key_id=code_key_id(key),
        signature=key.sign(subject.message()),
    )


def merchant_code(base_url: str, merchant_id: str, key: Ed25519PrivateKey) -> Code:
    return sign_code(base_url, Merchant(merchant_id), key)


def lot_code(base_url: str, gtin: str, lot: str, key: Ed25519PrivateKey) -> Code:
    return sign_code(base_url, Lot(normalize_gtin(gtin), lot), key)


def serial_code(base_url: str, gtin: str, serial: str, key: Ed25519PrivateKey) -> Code:
    return sign_code(base_url, Serial(normalize_gtin(gtin), serial), key)


def _parse_token(token: str) -> tuple[bytes, bytes]:
    if len(token) != TOKEN_CHARS:
        raise CodeError(SIGNATURE_PARAM, f"expected {TOKEN_CHARS} characters, got {len(token)}")
    if not token.isascii() or not token.isalnum() or not token.isupper():
        raise CodeError(SIGNATURE_PARAM, "expected upper-case base32 (A-Z, 2-7)")
    try:
        raw = base64.b32decode(token + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError) as exc:
        raise CodeError(SIGNATURE_PARAM, f"not base32: {exc}") from exc
    if base64.b32encode(raw).decode("ascii").rstrip("=") != token:
        raise CodeError(SIGNATURE_PARAM, "non-canonical base32 (trailing bits set)")
    return raw[:CODE_KEY_ID_BYTES], raw[CODE_KEY_ID_BYTES:]


def _signature_param(query: str) -> str:
    values = [
        value
        for name, _, value in (item.partition("=") for item in query.split("&"))
        if name == SIGNATURE_PARAM
    ]
    if len(values) != 1:
        raise CodeError("query", f"expected exactly one {SIGNATURE_PARAM}= parameter")
    return values[0]


def _parse_subject(segments: list[str]) -> tuple[int, Subject]:
    """(number of trailing path segments used, subject) from the URL's path segments."""
    if len(segments) >= 4 and segments[-4] == AI_GTIN and segments[-2] in (AI_LOT, AI_SERIAL):
        gtin = normalize_gtin(segments[-3])
        if segments[-2] == AI_LOT:
            return 4, Lot(gtin, _pct_decode("lot", segments[-1]))
        return 4, Serial(gtin, _pct_decode("serial", segments[-1]))
    if len(segments) >= 2 and segments[-2] == MERCHANT_SEGMENT:
        return 2, Merchant(_pct_decode("merchant_id", segments[-1]))
    raise CodeError(
        "path",
        f"expected .../{MERCHANT_SEGMENT}/{{merchant_id}}, .../01/{{gtin}}/10/{{lot}} or "
        ".../01/{gtin}/21/{serial}",
    )


def parse_code(text: str) -> Code:
    """Parse a scanned or typed code URL. Raises :class:`CodeError` and nothing else."""
    if not isinstance(text, str):
        raise CodeError("code", f"expected text, got {type(text).__name__}")
    if len(text) > MAX_CODE_CHARS:
        raise CodeError("code", f"longer than {MAX_CODE_CHARS} characters")
    parts = _split("code", text)
    if parts.fragment:
        raise CodeError("code", "expected no #fragment")
    segments = parts.path.split("/")[1:]
    used, subject = _parse_subject(segments)
    prefix_segments = segments[:-used]
    if any(not seg for seg in prefix_segments):
        raise CodeError("base_url", "empty path segment before the code's own path")
    prefix = "/".join(["", *prefix_segments]) if prefix_segments else ""
    base_url = normalize_base_url(f"{parts.scheme}://{parts.netloc}{prefix}")
    key_id, signature = _parse_token(_signature_param(parts.query))
    return Code(base_url=base_url, subject=subject, key_id=key_id, signature=signature)


def verify_code(code: Code, authority_keys: Iterable[Ed25519PublicKey]) -> None:
    """Check a code's signature against the trusted authority keys; raise if it is forged.

    Raises :class:`SignatureError` when no trusted key has the code's key id, or when the
    signature does not match the code's subject under that key.
    """
    candidates = [k for k in authority_keys if code_key_id(k) == code.key_id]
    if not candidates:
        raise SignatureError(
            f"code is signed by key {code.key_id.hex()}, which is not a trusted authority key"
        )
    message = code.subject.message()
    for key in candidates:
        try:
            key.verify(code.signature, message)
        except InvalidSignature:
            continue
        return
    raise SignatureError(
        f"{code.kind} code signature does not match {code.human_text} "
        f"under authority key {code.key_id.hex()}"
    )
