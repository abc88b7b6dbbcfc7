"""CBV 2.0 standard vocabulary: one word list, three spellings.

A CBV value can arrive as a bare word (``shipping``, the EPCIS 2.0 JSON-LD form), as an
EPCIS 1.x URN (``urn:epcglobal:cbv:bizstep:shipping``) or as a GS1 Web URI
(``https://ref.gs1.org/cbv/BizStep-shipping``). Validation, indexing and the event hash
must all agree that these are the same value, so the word lists (``data/cbv.json``) and
the spellings live here and nowhere else. Anything that is not a CBV spelling is a
custom (non-GS1) vocabulary URI and is passed through unchanged.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Final

_DATA = json.loads(resources.files(__package__).joinpath("data/cbv.json").read_text("utf-8"))


@dataclass(frozen=True)
class Kind:
    """One CBV vocabulary: its field label, word list and its URN / Web URI spellings."""

    label: str
    words: frozenset[str]
    urn_prefix: str
    web_prefix: str


BIZ_STEP: Final = Kind(
    "bizStep", frozenset(_DATA["bizStep"]), "urn:epcglobal:cbv:bizstep:", "BizStep-"
)
DISPOSITION: Final = Kind(
    "disposition", frozenset(_DATA["disposition"]), "urn:epcglobal:cbv:disp:", "Disp-"
)
BIZ_TRANSACTION_TYPE: Final = Kind(
    "business transaction type",
    frozenset(_DATA["bizTransactionType"]),
    "urn:epcglobal:cbv:btt:",
    "BTT-",
)
SOURCE_DEST_TYPE: Final = Kind(
    "source/destination type", frozenset(_DATA["sourceDestType"]), "urn:epcglobal:cbv:sdt:", "SDT-"
)
ERROR_REASON: Final = Kind(
    "error reason", frozenset(_DATA["errorReason"]), "urn:epcglobal:cbv:er:", "ER-"
)
MEASUREMENT_TYPES: Final = frozenset(_DATA["measurementType"])
SENSOR_ALERT_TYPES: Final = frozenset(_DATA["sensorAlertType"])
"""Hashed as the GS1 Web Vocabulary term of the bare value (``gs1:ALARM_CONDITION``)."""
_CODE_LISTS: Final[dict[str, str]] = _DATA["codeLists"]

CBV_WEB: Final = "https://ref.gs1.org/cbv/"
GS1_VOC: Final = "https://ref.gs1.org/voc/"
_GS1_VOC_PREFIXES: Final = (
    "gs1:",
    "https://gs1.org/voc/",
    "http://gs1.org/voc/",
    "https://www.gs1.org/voc/",
    "https://ref.gs1.org/voc/",
)
_CBV_NAMESPACES: Final = (
    "urn:epcglobal:cbv:",
    "https://ref.gs1.org/cbv/",
    "http://ns.gs1.org/cbv/",
)
_URI_RE: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]*$")


class VocabularyError(ValueError):
    """A value claims to be CBV vocabulary (or is no URI at all) but is not a known term."""


def is_uri(value: str) -> bool:
    """An absolute URI (RFC 3986 scheme followed by ``:``), as EPCIS requires for ids."""
    return _URI_RE.match(value) is not None


def cbv_word(kind: Kind, value: str) -> str | None:
    """The bare CBV word for any spelling of a standard value; ``None`` for a custom URI.

    Raises :class:`VocabularyError` for a bare word or CBV-namespaced URI that is not in
    the CBV 2.0 list, and for a value that is neither a CBV term nor a URI.
    """
    word: str | None = None
    if value in kind.words:
        return value
    if value.startswith(kind.urn_prefix):
        word = value[len(kind.urn_prefix) :]
    elif value.startswith(CBV_WEB + kind.web_prefix):
        word = value[len(CBV_WEB + kind.web_prefix) :]
    elif value.startswith(_CBV_NAMESPACES):
        raise VocabularyError(
            f"expected a CBV 2.0 {kind.label} URI like {kind.urn_prefix}{_example(kind)}, "
            f"got {value!r}"
        )
    elif is_uri(value):
        return None
    else:
        raise VocabularyError(
            f"expected a CBV 2.0 {kind.label} (e.g. {_example(kind)}) or a custom vocabulary "
            f"URI, got {value!r}"
        )
    if word not in kind.words:
        raise VocabularyError(f"{word!r} is not a CBV 2.0 {kind.label}")
    return word


def normalise(kind: Kind, value: str) -> str:
    """The short form used for indexing: the bare word if standard, else the URI as given."""
    return cbv_word(kind, value) or value


def web_uri(kind: Kind, value: str) -> str:
    """The GS1 Web URI form (``https://ref.gs1.org/cbv/BizStep-shipping``) used by the hash."""
    try:
        word = cbv_word(kind, value)
    except VocabularyError:
        return value
    return f"{CBV_WEB}{kind.web_prefix}{word}" if word else value


def urn_to_web_uri(value: str) -> str:
    """An EPCIS 1.x CBV URN of any standard vocabulary as its GS1 Web URI (the word is not
    checked: user extensions may hold any value); other values unchanged."""
    for kind in (BIZ_STEP, DISPOSITION, BIZ_TRANSACTION_TYPE, SOURCE_DEST_TYPE, ERROR_REASON):
        if value.startswith(kind.urn_prefix):
            return f"{CBV_WEB}{kind.web_prefix}{value[len(kind.urn_prefix) :]}"
    return value


def code_list_prefix(prop: str) -> str | None:
    """The Web Vocabulary prefix of the code list a GS1 property takes its values from
    (``locationRoleType`` → ``LocationRoleType-``): a bare term such as ``BACKROOM`` in master
    data stands for ``gs1:LocationRoleType-BACKROOM``. Only the lists in ``cbv.json`` are known."""
    prefix = _CODE_LISTS.get(prop)
    return prefix if isinstance(prefix, str) else None


def measurement_word(value: str) -> str | None:
    """The bare GS1 measurement type (``Temperature``) for any of its spellings, ``None`` for
    a custom URI; raises :class:`VocabularyError` for an unknown GS1 term."""
    if value in MEASUREMENT_TYPES:
        return value
    for prefix in _GS1_VOC_PREFIXES:
        if value.startswith(prefix):
            word = value[len(prefix) :]
            if word not in MEASUREMENT_TYPES:
                raise VocabularyError(f"{word!r} is not a GS1 measurement type (gs1:{word})")
            return word
    if is_uri(value):
        return None
    raise VocabularyError(
        f"expected a GS1 measurement type (e.g. Temperature, gs1:Temperature) or a custom URI, "
        f"got {value!r}"
    )


def _example(kind: Kind) -> str:
    return sorted(kind.words)[0]
