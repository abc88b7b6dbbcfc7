"""The fast JCS path is byte-identical to the reference implementation."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from foodtrace.trace import canonical

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fast_path_equals_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        expected = None
    try:
        obj, simple = canonical.loads(json.dumps(value, ensure_ascii=False))
        got = canonical.dumps(obj, simple)
    except (rfc8785.CanonicalizationError, ValueError):
        got = None
    assert got == expected


def test_duplicates_and_constants_are_refused() -> None:
    with pytest.raises(canonical.DuplicateKeyError):
        canonical.loads('{"a":1,"a":1}')
    with pytest.raises(ValueError, match="NaN"):
        canonical.loads('{"a":NaN}')
    obj, simple = canonical.loads('{"\U0001f600":1,"\uffff":2}')
    assert not simple and canonical.dumps(obj, simple) == rfc8785.dumps(obj)
