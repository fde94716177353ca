"""Node ids that people can read aloud over a bad phone line and compare.

A node id is the node's Ed25519 public key in base32 (52 characters), cut into four
groups of 13, each followed by a Luhn mod 32 check character, then shown in eight groups
of seven: ``MFRGGZD-FMZTGQ2-…``. This is the Syncthing device-id scheme; the check
characters catch any single mistyped character and most swapped neighbours, and because the
id *is* the key, a verified id is all a peer needs to check our signatures.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from crypto.errors import InvalidNodeId

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
PUBLIC_KEY_SIZE = 32
_CHUNK = 13
_GROUP = 7
_ENCODED_LENGTH = 56
# Characters people confuse when reading aloud or retyping: accept them, they are unambiguous.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def luhn32_check_char(chunk: str) -> str:
    """Luhn mod N check character over base32 text (as Syncthing computes it)."""
    factor = 1
    total = 0
    n = len(ALPHABET)
    for char in chunk:
        addend = factor * ALPHABET.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


@lru_cache(maxsize=1024)  # a node sees few distinct keys, and formats them for every record
def node_id_from_public_key(public_key: bytes) -> str:
    """The readable id of a 32-byte Ed25519 public key."""
    if len(public_key) != PUBLIC_KEY_SIZE:
        raise InvalidNodeId(f"a node key is {PUBLIC_KEY_SIZE} bytes, not {len(public_key)}")
    text = base64.b32encode(public_key).decode("ascii").rstrip("=")
    chunks = [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)]
    checked = "".join(chunk + luhn32_check_char(chunk) for chunk in chunks)
    return "-".join(checked[i : i + _GROUP] for i in range(0, len(checked), _GROUP))


@lru_cache(maxsize=1024)
def public_key_from_node_id(node_id: str) -> bytes:
    """The public key inside a node id, after checking every check character.

    Accepts lower case, spaces instead of dashes and the look-alikes 0/1/8 for O/I/B.
    """
    text = node_id.strip().upper().replace("-", "").replace(" ", "").translate(_LOOKALIKES)
    if len(text) != _ENCODED_LENGTH:
        raise InvalidNodeId(
            f"a node id has {_ENCODED_LENGTH} letters and digits, this one has {len(text)}"
        )
    if bad := sorted({char for char in text if char not in ALPHABET}):
        raise InvalidNodeId(f"a node id never contains {', '.join(bad)}")
    data = ""
    for index in range(4):
        group = text[index * (_CHUNK + 1) : (index + 1) * (_CHUNK + 1)]
        chunk, check = group[:_CHUNK], group[_CHUNK]
        if luhn32_check_char(chunk) != check:
            raise InvalidNodeId(
                f"node id check failed in quarter {index + 1}: a character there is mistyped"
            )
        data += chunk
    key = base64.b32decode(data + "====")
    # 52 base32 characters hold 260 bits for a 256-bit key: the last character's spare bits
    # must be zero, or two spellings would name one node.
    if base64.b32encode(key).decode("ascii").rstrip("=") != data:
        raise InvalidNodeId("node id check failed in quarter 4: a character there is mistyped")
    return key


def normalize_node_id(node_id: str) -> str:
    """The canonical spelling of a node id typed by a person (raises if it is mistyped)."""
    return node_id_from_public_key(public_key_from_node_id(node_id))
