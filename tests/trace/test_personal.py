"""Personal data: salted commitments and masked display forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foodtrace.trace import personal


def test_commit_and_verify() -> None:
    commitment, salt = personal.commit("张三", kind="name")
    assert len(commitment) == 64 and len(salt) == personal.SALT_BYTES
    assert personal.verify_commitment(commitment, "张三", salt, kind="name")
    assert not personal.verify_commitment(commitment, "张四", salt, kind="name")
    assert not personal.verify_commitment(commitment, "张三", bytes(32), kind="name")
    assert not personal.verify_commitment(commitment, "张三", salt, kind="phone")


def test_fresh_salt_each_time_hides_equal_values() -> None:
    assert personal.commit("13812341234")[0] != personal.commit("13812341234")[0]


def test_commitment_is_stable_for_a_given_salt() -> None:
    salt = bytes(range(32))
    first, _ = personal.commit("13812341234", kind="phone", salt=salt)
    assert personal.commit("138-1234-1234", kind="phone", salt=salt)[0] == first
    assert personal.commit(" 13812341234 ", kind="phone", salt=salt)[0] == first


def test_canonical_encoding() -> None:
    decomposed = "e\u0301"  # é as e + combining accent
    assert personal.canonical(decomposed, "name") == personal.canonical("\u00e9", "name")
    assert personal.canonical("  张  三 ", "name") == personal.canonical("张 三", "name")
    assert personal.canonical("11010519491231002x", "id_number").endswith(b"11010519491231002X")
    assert personal.canonical("a", "name") != personal.canonical("a", "phone")


def test_short_salt_is_refused() -> None:
    with pytest.raises(ValueError, match="salt: expected at least 16 bytes"):
        personal.commit("x", salt=b"short")


MASKS = json.loads((Path(__file__).resolve().parents[1] / "data/personal/masks.json").read_text())


@pytest.mark.parametrize(("name", "masked"), MASKS["name"])
def test_mask_name(name: str, masked: str) -> None:
    assert personal.mask_name(name) == masked


@pytest.mark.parametrize(("id_number", "masked"), MASKS["id_number"])
def test_mask_id_number(id_number: str, masked: str) -> None:
    assert personal.mask_id_number(id_number) == masked


def test_mask_phone_and_id() -> None:
    assert personal.mask_phone("13812341234") == "138****1234"
    assert personal.mask_phone("+86 138-1234-1234") == "138****1234"
    assert personal.mask_phone("021-6212-3456") == "*******3456"
