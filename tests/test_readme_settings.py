"""The README's settings tables name every setting (the shared Settings and the resolver's)
and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from foodtrace.config import Settings
from foodtrace.resolver.settings import ResolverSettings

README = Path(__file__).resolve().parents[1] / "README.md"
ROW = re.compile(r"^\| `FOODTRACE_([A-Z0-9_]+)` \|", re.MULTILINE)


FIELDS = {**Settings.model_fields, **ResolverSettings.model_fields}


def table() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### Settings")
    return text[start : text.index("\n## ", start)]


def test_every_setting_has_a_row_and_every_row_a_setting() -> None:
    rows = [name.lower() for name in ROW.findall(table())]
    assert len(rows) == len(set(rows)), "a setting is listed twice"
    fields = set(FIELDS)
    assert sorted(fields - set(rows)) == [], "settings missing from the README table"
    assert sorted(set(rows) - fields) == [], "README rows naming no setting"


def test_defaults_in_the_table_match_the_class() -> None:
    """Where a row gives a literal default (in backticks), it is the field's default; fields
    whose default is empty or None say in words what they fall back to."""
    defaults = {}
    for line in table().splitlines():
        m = re.match(r"^\| `FOODTRACE_([A-Z0-9_]+)` \| `([^`]*)` \|", line)
        if m:
            defaults[m.group(1).lower()] = m.group(2)
    assert len(defaults) > 30
    for name, shown in defaults.items():
        value = FIELDS[name].default
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            expected = str(value).lower()
        elif isinstance(value, float) and value.is_integer():
            expected = str(int(value))
        elif isinstance(value, list):
            expected = "[]" if not value else str(value)
        else:
            expected = str(value)
        assert shown == expected, f"FOODTRACE_{name.upper()}: README says {shown}, class {value}"
