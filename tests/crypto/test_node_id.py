"""Node ids: the public key in base32, four Luhn-mod-32 check characters, groups of seven.

Spec: ids are read aloud and retyped, so lower case, spaces and the look-alikes 0/1/8 are
accepted, and any single mistyped character is caught.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.errors import InvalidNodeId
from crypto.node_id import (
    ALPHABET,
    node_id_from_public_key,
    normalize_node_id,
    public_key_from_node_id,
)
from crypto.signing import SigningIdentity
from tests.conftest import SEED_A, SEED_B

# Known answers, computed once from the fixed seeds and pinned.
PUBLIC_KEY_A = bytes.fromhex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
NODE_ID_A = "AOQQPP7-TZYIL44-HLQ3UMO-OS6ATFL-T6JVRQT-OSQ2XYH-53SDGIE-SVGG4AV"
NODE_ID_B = "FGWLVYK-BXTFPBP-MRODKKN-GTILY4L-3B4UTNB-P7BFSED-XSS6JGI-UWNXLQC"

COMPACT_A = NODE_ID_A.replace("-", "")


def test_public_key_of_seed_a_is_pinned() -> None:
    assert SigningIdentity.from_seed(SEED_A).public_key == PUBLIC_KEY_A


def test_node_id_of_seed_a_is_pinned() -> None:
    assert node_id_from_public_key(PUBLIC_KEY_A) == NODE_ID_A
    assert SigningIdentity.from_seed(SEED_A).node_id == NODE_ID_A
    assert SigningIdentity.from_seed(SEED_B).node_id == NODE_ID_B


def test_node_id_is_eight_groups_of_seven_from_the_alphabet() -> None:
    groups = NODE_ID_A.split("-")
    assert [len(group) for group in groups] == [7] * 8
    assert set("".join(groups)) <= set(ALPHABET)


def test_round_trip_of_the_pinned_id() -> None:
    assert public_key_from_node_id(NODE_ID_A) == PUBLIC_KEY_A


@given(st.binary(min_size=32, max_size=32))
def test_round_trip_of_any_key(public_key: bytes) -> None:
    node_id = node_id_from_public_key(public_key)
    assert public_key_from_node_id(node_id) == public_key
    assert normalize_node_id(node_id) == node_id


@pytest.mark.parametrize(
    "typed",
    [
        NODE_ID_A.lower(),
        NODE_ID_A.replace("-", " "),
        NODE_ID_A.replace("-", ""),
        COMPACT_A.lower(),
        "  " + NODE_ID_A.lower().replace("-", " ") + "\n",
        " ".join(COMPACT_A[i : i + 4] for i in range(0, len(COMPACT_A), 4)),
    ],
    ids=["lower", "spaces", "no-separators", "compact-lower", "padded", "groups-of-four"],
)
def test_lower_case_spaces_and_dashes_are_accepted(typed: str) -> None:
    assert public_key_from_node_id(typed) == PUBLIC_KEY_A
    assert normalize_node_id(typed) == NODE_ID_A


@pytest.mark.parametrize("node_id", [NODE_ID_A, NODE_ID_B])
def test_look_alikes_0_1_8_are_read_as_o_i_b(node_id: str) -> None:
    typed = node_id.replace("O", "0").replace("I", "1").replace("B", "8")
    assert typed != node_id  # each pinned id has at least one look-alike to replace
    assert normalize_node_id(typed) == node_id


@pytest.mark.parametrize("position", range(len(COMPACT_A)))
def test_a_single_mistyped_character_is_caught_in_every_position(position: int) -> None:
    original = COMPACT_A[position]
    for replacement in ALPHABET:
        if replacement == original:
            continue
        typed = COMPACT_A[:position] + replacement + COMPACT_A[position + 1 :]
        with pytest.raises(InvalidNodeId, match="mistyped"):
            public_key_from_node_id(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        NODE_ID_A[:-1],
        NODE_ID_A + "A",
        NODE_ID_A.rsplit("-", 1)[0],
        NODE_ID_A + "-" + NODE_ID_A.split("-")[0],
    ],
    ids=["empty", "one-short", "one-long", "group-missing", "group-extra"],
)
def test_wrong_length_is_refused(typed: str) -> None:
    with pytest.raises(InvalidNodeId, match="56"):
        public_key_from_node_id(typed)


@pytest.mark.parametrize("bad", ["9", "!", "é", "_", "=", "Ω"])
def test_characters_outside_the_alphabet_are_refused_by_name(bad: str) -> None:
    typed = bad + COMPACT_A[1:]
    with pytest.raises(InvalidNodeId) as error:
        public_key_from_node_id(typed)
    assert bad.upper() in str(error.value)


def test_digits_other_than_look_alikes_are_never_in_an_id() -> None:
    outside = set(string.digits) - set(ALPHABET) - {"0", "1", "8"}
    for digit in sorted(outside):
        with pytest.raises(InvalidNodeId):
            public_key_from_node_id(digit + COMPACT_A[1:])


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_node_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(InvalidNodeId):
        node_id_from_public_key(bytes(size))
