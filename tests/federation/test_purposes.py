"""Purposes declarations, sans-IO: what a receiver believes, with fixed keys."""

from __future__ import annotations

import pytest

from crypto.canonical import pack
from crypto.envelope import seal
from crypto.signing import SigningIdentity
from federation.purposes import (
    PURPOSES_CONTEXT,
    Declaration,
    InvalidPurposes,
    InvalidPurposesDeclaration,
    clean_purposes,
    issue_declaration,
    open_declaration,
)

HUB = SigningIdentity.from_seed(bytes(range(32)))
OTHER = SigningIdentity.from_seed(bytes(range(1, 33)))


def signed(fields: object, identity: SigningIdentity = HUB) -> bytes:
    return seal(identity, PURPOSES_CONTEXT, pack(fields)).raw


def test_a_declaration_opens_as_it_was_made() -> None:
    made = Declaration(HUB.node_id, ("research", "training"), 1_790_000_000)
    raw = issue_declaration(HUB, made)
    assert open_declaration(raw, HUB.node_id, HUB.public_key) == made
    assert issue_declaration(HUB, made) == raw  # the same declaration, the same bytes


@pytest.mark.parametrize(
    ("fields", "identity", "words"),
    [
        ({"node": HUB.node_id, "purposes": [], "at": 1}, OTHER, "not signed by the node"),
        ({"node": OTHER.node_id, "purposes": [], "at": 1}, HUB, "names another node"),
        ({"node": HUB.node_id, "purposes": ["training", "research"], "at": 1}, HUB, "sorted"),
        ({"node": HUB.node_id, "purposes": ["Press"], "at": 1}, HUB, "lower case"),
        ({"node": HUB.node_id, "purposes": ["x" * 41], "at": 1}, HUB, "40 characters"),
        ({"node": HUB.node_id, "purposes": [1], "at": 1}, HUB, "list of words"),
        ({"node": HUB.node_id, "purposes": [], "at": "now"}, HUB, "no valid time"),
        ({"node": HUB.node_id, "purposes": []}, HUB, "exactly: node, purposes, at"),
    ],
)
def test_a_bad_declaration_is_refused(
    fields: object, identity: SigningIdentity, words: str
) -> None:
    with pytest.raises(InvalidPurposesDeclaration, match=words):
        open_declaration(signed(fields, identity), HUB.node_id, HUB.public_key)


def test_bytes_that_are_no_envelope_are_refused() -> None:
    for raw in (b"", b"\x93\x01\x02\x03", pack({"node": HUB.node_id, "purposes": [], "at": 1})):
        with pytest.raises(InvalidPurposesDeclaration, match="not a signed declaration"):
            open_declaration(raw, HUB.node_id, HUB.public_key)


def test_purposes_are_cleaned_and_capped() -> None:
    assert clean_purposes([" Training", "research", "training", ""]) == ("research", "training")
    with pytest.raises(InvalidPurposes):
        clean_purposes([f"p{n}" for n in range(17)])
