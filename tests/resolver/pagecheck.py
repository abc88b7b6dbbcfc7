"""What the page's verify.js does, in Python, for the resolver's tests: every record proves
into its signed checkpoint and every shown fact equals its entry's value."""

from __future__ import annotations

import base64
import html
import json
import re
from typing import Any

from foodtrace.resolver.display import show
from foodtrace.trace.checkpoint import verify_checkpoint
from foodtrace.trace.entry import loads
from foodtrace.trace.merkle import leaf_hash, verify_inclusion

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FACT = re.compile(r'<(?:span|circle)[^>]*\bclass="[^"]*\bfact\b[^"]*"[^>]*>')
ATTR = re.compile(r'data-(rec|path|fmt|value)="([^"]*)"')


def _pointer(obj: Any, path: str) -> Any:
    for part in path.split("/")[1:]:
        obj = obj[int(part)] if isinstance(obj, list) else obj.get(part)
    return obj


def check_page(page: str) -> int:
    """How many facts were checked; raises AssertionError or a VerificationError."""
    m = re.search(r'<script type="application/json" id="ft-proofs">(.*?)</script>', page, re.S)
    assert m, "the page embeds its proofs"
    p = json.loads(m.group(1))
    entries = {}
    for rec in p["records"]:
        cp = verify_checkpoint(p["checkpoints"][rec["checkpoint"]], [p["verifier_key"]])
        data = rec["data"].encode()
        proof = [base64.b64decode(h) for h in rec["proof"]]
        verify_inclusion(rec["index"], cp.size, leaf_hash(data), proof, cp.root)
        entries[str(rec["index"])] = json.loads(loads(data).leaf_data())
    tags = FACT.findall(page)
    for tag in tags:
        a = {k: html.unescape(v) for k, v in ATTR.findall(tag)}
        expected = show(a.get("fmt", ""), _pointer(entries[a["rec"]], a["path"]))
        if "value" in a:
            assert a["value"] == expected, (tag, expected)
        else:
            text = html.unescape(page[page.index(tag) + len(tag) :].split("<", 1)[0]).strip()
            assert text == expected, (tag, expected)
    return len(tags)
