"""Federation messages on the wire: what each schema accepts, and that nothing else decodes.

Every body a peer sends is capped, decoded and checked against its schema at the edge
(STYLE point 3). Whatever is wrong with it, the answer is a ``PeerProtocolError`` whose
message says what, never another exception.
"""

from __future__ import annotations

from typing import Any

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation import wire
from federation.errors import PeerProtocolError

ID = bytes(range(32))
NODE_ID = "AEAQCAI-DAQEAQC-..."  # decode checks the schema only; ids are checked by the layer above

SAMPLES: dict[str, tuple[wire.Schema, dict[str, Any]]] = {
    "pair_request": (
        wire.PAIR_REQUEST,
        {
            "invite": b"\x01" * 32,
            "proof": b"\x02" * 32,
            "node_id": NODE_ID,
            "name": "Lima Hub",
            "region": "Andes",
            "url": "http://127.0.0.1:8471",
            "statements": [],
            "purposes": b"signed purposes declaration",
        },
    ),
    "pair_response": (
        wire.PAIR_RESPONSE,
        {
            "node_id": NODE_ID,
            "name": "Nairobi Hub",
            "region": "East Africa",
            "url": "http://127.0.0.1:8470",
            "signature": b"\x03" * 64,
            "statements": [b"\x04" * 300],
            "purposes": b"signed purposes declaration",
        },
    ),
    "reconcile_request": (wire.RECONCILE_REQUEST, {"session": "a1b2c3", "msg": b"\x61\x00"}),
    "reconcile_response": (wire.RECONCILE_RESPONSE, {"msg": b"\x61"}),
    "fetch_request": (wire.FETCH_REQUEST, {"ids": [ID, bytes(32)]}),
    # The schema takes an empty list; the responder refuses it (test_responder).
    "fetch_request_empty": (wire.FETCH_REQUEST, {"ids": []}),
    "records": (wire.RECORDS, {"records": [b"envelope one", b"envelope two"]}),
    "fetched": (wire.FETCHED, {"records": [b"envelope one"], "handled": 2}),
    "fetched_none": (wire.FETCHED, {"records": [], "handled": 1}),
    "push_response": (
        wire.PUSH_RESPONSE,
        {"stored": 3, "duplicates": 0, "rejected": 1, "revocations": [b"signed revocation"]},
    ),
    "notify": (wire.NOTIFY, {}),
    "revocations": (wire.REVOCATIONS, {"revocations": [b"statement"]}),
    "receipts": (wire.RECEIPTS, {"receipts": [b"receipt one", b"receipt two"]}),
    "accepted": (wire.ACCEPTED, {"accepted": 2, "ack": b"signed ack"}),
    "outbox": (wire.OUTBOX, {"revocations": [], "receipts": [b"receipt"]}),
    "ack": (wire.ACK, {"ack": b"signed ack"}),
    "acked": (wire.ACKED, {"removed": 1}),
    "tombstone_query": (wire.TOMBSTONE_QUERY, {"ids": [ID]}),
    "tombstones": (wire.TOMBSTONES, {"revocations": [b"signed revocation"]}),
    "echo_request": (wire.ECHO_REQUEST, {"nonce": bytes(16)}),
    "echo_answer": (wire.ECHO_ANSWER, {"statement": b"signed echo statement"}),
    "address": (wire.ADDRESS, {"url": "https://hub.example.org:8470"}),
    "address_answer": (wire.ADDRESS_ANSWER, {"updated": 1}),
    "gone_notice": (wire.GONE_NOTICE, {"notice": b"signed gone notice"}),
    "gone_answer": (wire.GONE_ANSWER, {"noted": 1}),
    "own_revocations_query": (wire.OWN_REVOCATIONS_QUERY, {"after": "ab" * 32}),
    "own_revocations": (wire.OWN_REVOCATIONS, {"revocations": [b"signed revocation"], "more": 0}),
    "key_history": (wire.KEY_HISTORY, {"statements": [b"signed genesis", b"signed rotation"]}),
    "recover_request": (wire.RECOVER_REQUEST, {"node": "A" * 68, "statements": []}),
    "recover_answer": (
        wire.RECOVER_ANSWER,
        {
            "yours": [b"signed genesis"],
            "your_name": "Hub A",
            "your_region": "East Africa",
            "node_id": "B" * 68,
            "name": "Hub B",
            "region": "West Africa",
            "url": "https://hub-b.example:8443",
            "statements": [],
        },
    ),
    "own_records_query": (wire.OWN_RECORDS_QUERY, {"after": "ab" * 32}),
    "own_records": (wire.OWN_RECORDS, {"records": [b"signed record"], "more": 1}),
    "member_notices": (wire.MEMBER_NOTICES, {"notices": [b"signed notice"]}),
    "member_notices_answer": (wire.MEMBER_NOTICES_ANSWER, {"noted": 1}),
    "purposes": (wire.PURPOSES, {"declaration": b"signed purposes declaration"}),
    "purposes_answer": (wire.PURPOSES_ANSWER, {"updated": 1}),
    "key_history_answer": (
        wire.KEY_HISTORY_ANSWER, {"statements": [b"signed genesis"], "yours": []}
    ),
    "key_histories_query": (wire.KEY_HISTORIES_QUERY, {"nodes": [ID, ID]}),
    "key_histories": (wire.KEY_HISTORIES, {"statements": [b"a's genesis", b"b's genesis"]}),
}
# Every message schema the module defines (a dict of Field), by name.
SCHEMAS: dict[str, wire.Schema] = {
    name: value
    for name, value in vars(wire).items()
    if name.isupper()
    and isinstance(value, dict)
    and all(isinstance(spec, wire.Field) for spec in value.values())
}


def raw(value: Any) -> bytes:
    """Bytes as a peer could send them, bypassing our own encoder's checks."""
    data: bytes = msgpack.packb(value, use_bin_type=True)
    return data


def refused(schema: wire.Schema, body: bytes, match: str) -> None:
    with pytest.raises(PeerProtocolError, match=match):
        wire.decode(schema, body)


# --- Round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_message_round_trips(name: str) -> None:
    schema, values = SAMPLES[name]
    body = wire.encode(schema, values)
    assert wire.decode(schema, body) == values
    assert list(wire.decode(schema, body)) == list(schema), "fields in schema order"


def test_every_schema_has_a_sample() -> None:
    sampled = {id(schema) for schema, _ in SAMPLES.values()}
    assert "NOTIFY" in SCHEMAS and "RECORDS" in SCHEMAS
    assert [name for name, schema in SCHEMAS.items() if id(schema) not in sampled] == []


def test_the_notify_body_is_an_empty_map() -> None:
    assert wire.encode(wire.NOTIFY, {}) == b"\x80"


def test_encode_checks_our_own_output() -> None:
    with pytest.raises(PeerProtocolError, match="'stored' must be int"):
        wire.encode(
            wire.PUSH_RESPONSE, {"stored": "3", "duplicates": 0, "rejected": 0, "revocations": []}
        )
    with pytest.raises(PeerProtocolError, match="'proof' is out of bounds"):
        wire.encode(wire.PAIR_REQUEST, {**SAMPLES["pair_request"][1], "proof": b"short"})


def test_the_largest_allowed_values_pass() -> None:
    ids = [bytes([n % 256, n // 256]) * 16 for n in range(wire.MAX_RECORDS_PER_MESSAGE)]
    assert wire.decode(wire.FETCH_REQUEST, wire.encode(wire.FETCH_REQUEST, {"ids": ids})) == {
        "ids": ids
    }
    records = [b"r" * (1 << 20)] + [b"r"] * (wire.MAX_RECORDS_PER_MESSAGE - 1)
    fetched = {"records": records, "handled": wire.MAX_RECORDS_PER_MESSAGE}
    assert wire.decode(wire.FETCHED, wire.encode(wire.FETCHED, fetched)) == fetched
    message = {"session": "s" * 64, "msg": b"\x61" * wire.MAX_RECONCILE_BYTES}
    assert wire.decode(wire.RECONCILE_REQUEST, raw(message)) == message
    statements = [b"s" * wire.MAX_STATEMENT_BYTES] * wire.MAX_REVOCATIONS_PER_MESSAGE
    counts = {"stored": 1 << 31, "duplicates": 0, "rejected": 0, "revocations": statements}
    assert wire.decode(wire.PUSH_RESPONSE, raw(counts)) == counts


# --- Refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"\xc1", b"\xff\xff\xff", b"GET / HTTP/1.1\r\n\r\n", b"\x81\xa3ids\xc7\x01\x05x"],
    ids=["empty", "never-used-byte", "negative-ints", "http-text", "extension-type"],
)
def test_junk_is_refused(body: bytes) -> None:
    refused(wire.FETCH_REQUEST, body, "not a valid message|must be a msgpack map")


def test_a_truncated_body_is_refused() -> None:
    body = wire.encode(wire.FETCH_REQUEST, {"ids": [ID, ID]})
    for end in range(len(body)):
        refused(wire.FETCH_REQUEST, body[:end], "truncated msgpack")


def test_trailing_bytes_are_refused() -> None:
    body = wire.encode(wire.RECONCILE_RESPONSE, {"msg": b"\x61"})
    refused(wire.RECONCILE_RESPONSE, body + b"\x00", "trailing bytes")
    refused(wire.RECONCILE_RESPONSE, body + body, "trailing bytes")


@pytest.mark.parametrize("value", [[b"\x61"], "msg", 7, None, True, b"\x80"])
def test_the_body_must_be_a_map(value: Any) -> None:
    refused(wire.RECONCILE_RESPONSE, raw(value), "must be a msgpack map")


def test_a_float_is_refused() -> None:
    message = {"stored": 1.0, "duplicates": 0, "rejected": 0, "revocations": []}
    refused(wire.PUSH_RESPONSE, raw(message), "float")


def test_a_body_need_not_be_canonical() -> None:
    """A body is covered as bytes by the signed digest; nothing signs its re-encoding, so a
    wider integer than needed is read, not refused (signed records inside are checked)."""
    wide_zero = b"\x84\xa6stored\xcc\x00\xaaduplicates\x00\xa8rejected\x00\xabrevocations\x90"
    assert wire.decode(wire.PUSH_RESPONSE, wide_zero) == {
        "stored": 0, "duplicates": 0, "rejected": 0, "revocations": [],
    }  # fmt: skip


def test_a_key_given_twice_is_refused() -> None:
    twice = b"\x82\xa3msg\xc4\x01a\xa3msg\xc4\x01b"
    refused(wire.RECONCILE_RESPONSE, twice, "not a valid message.*'msg' twice")


def test_map_keys_must_be_text() -> None:
    refused(wire.RECONCILE_RESPONSE, raw({b"msg": b"\x61"}), "not a valid message")
    refused(wire.RECONCILE_RESPONSE, raw({1: b"\x61"}), "not a valid message")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_missing_field_is_refused(name: str) -> None:
    schema, values = SAMPLES[name]
    for field in (name for name, spec in schema.items() if not spec.optional):
        partial = {key: value for key, value in values.items() if key != field}
        refused(schema, raw(partial), "message fields must be exactly")


@pytest.mark.parametrize("schema", [wire.PAIR_REQUEST, wire.PAIR_RESPONSE])
def test_an_optional_field_may_be_absent_but_never_of_another_type(schema: wire.Schema) -> None:
    name = "pair_request" if schema is wire.PAIR_REQUEST else "pair_response"
    values = SAMPLES[name][1]
    older = {key: value for key, value in values.items() if key != "purposes"}
    assert wire.decode(schema, raw(older)) == older  # a node older than declarations
    assert wire.decode(schema, wire.encode(schema, {**older, "purposes": None})) == older
    refused(schema, raw({**values, "purposes": "not bytes"}), "field 'purposes' must be bytes")
    refused(schema, raw({**values, "purposes": b"x" * 4096}), "field 'purposes' is out of bounds")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_an_extra_field_is_refused(name: str) -> None:
    schema, values = SAMPLES[name]
    refused(schema, raw({**values, "admin": True}), "message fields must be exactly")


def test_the_error_names_the_expected_fields() -> None:
    refused(wire.NOTIFY, raw({"x": 1}), "exactly: no fields")
    refused(wire.PUSH_RESPONSE, raw({}), "exactly: stored, duplicates, rejected, revocations")


@pytest.mark.parametrize(
    ("schema", "field", "value", "match"),
    [
        (wire.PUSH_RESPONSE, "stored", True, "'stored' must be int"),
        (wire.PUSH_RESPONSE, "rejected", "1", "'rejected' must be int"),
        (wire.RECONCILE_RESPONSE, "msg", "61", "'msg' must be bytes"),
        (wire.RECONCILE_RESPONSE, "msg", [1], "'msg' must be bytes"),
        (wire.RECONCILE_REQUEST, "session", b"s1", "'session' must be str"),
        (wire.PAIR_REQUEST, "invite", "a" * 32, "'invite' must be bytes"),
        (wire.PAIR_RESPONSE, "url", None, "'url' must be str"),
        (wire.FETCH_REQUEST, "ids", ID, "'ids' must be list"),
        (wire.FETCH_REQUEST, "ids", {"a": ID}, "'ids' must be list"),
        (wire.FETCH_REQUEST, "ids", ["ab" * 16], "'ids' holds an item of the wrong type"),
        (wire.FETCH_REQUEST, "ids", [ID, None], "'ids' holds an item of the wrong type"),
        (wire.FETCHED, "handled", True, "'handled' must be int"),
        (wire.FETCHED, "handled", "2", "'handled' must be int"),
        (wire.FETCHED, "records", b"envelope", "'records' must be list"),
        (wire.FETCHED, "records", [b"ok", 5], "'records' holds an item of the wrong type"),
        (wire.RECORDS, "records", [b"ok", 5], "'records' holds an item of the wrong type"),
        (wire.RECORDS, "records", [[b"nested"]], "'records' holds an item of the wrong type"),
    ],
)
def test_a_wrong_type_is_refused(schema: wire.Schema, field: str, value: Any, match: str) -> None:
    name = next(name for name, (sample, _) in SAMPLES.items() if sample is schema)
    refused(schema, raw({**SAMPLES[name][1], field: value}), match)


@pytest.mark.parametrize(
    ("schema", "field", "size"),
    [
        (wire.PAIR_REQUEST, "invite", 31),
        (wire.PAIR_REQUEST, "invite", 33),
        (wire.PAIR_REQUEST, "proof", 0),
        (wire.PAIR_REQUEST, "proof", 64),
        (wire.PAIR_RESPONSE, "signature", 63),
        (wire.PAIR_RESPONSE, "signature", 65),
    ],
)
def test_bytes_of_the_wrong_exact_size_are_refused(
    schema: wire.Schema, field: str, size: int
) -> None:
    name = next(name for name, (sample, _) in SAMPLES.items() if sample is schema)
    refused(schema, raw({**SAMPLES[name][1], field: b"\x07" * size}), f"'{field}' is out of bounds")


@pytest.mark.parametrize(
    ("schema", "field", "value"),
    [
        (wire.PUSH_RESPONSE, "stored", -1),
        (wire.PUSH_RESPONSE, "duplicates", (1 << 31) + 1),
        (wire.RECONCILE_REQUEST, "session", "s" * 65),
        (wire.PAIR_REQUEST, "node_id", "N" * 81),
        (wire.PAIR_REQUEST, "name", "n" * 201),
        (wire.PAIR_RESPONSE, "url", "http://" + "u" * 494),
        (wire.RECONCILE_RESPONSE, "msg", b"\x61" * (wire.MAX_RECONCILE_BYTES + 1)),
        (wire.FETCHED, "handled", -1),
        (wire.FETCHED, "handled", wire.MAX_RECORDS_PER_MESSAGE + 1),
    ],
)
def test_values_out_of_bounds_are_refused(schema: wire.Schema, field: str, value: Any) -> None:
    name = next(name for name, (sample, _) in SAMPLES.items() if sample is schema)
    refused(schema, raw({**SAMPLES[name][1], field: value}), f"'{field}' is out of bounds")


def test_too_many_ids_are_refused() -> None:
    """A fetch asks for at most as many records as one answer may hold."""
    ids = [ID] * (wire.MAX_RECORDS_PER_MESSAGE + 1)
    refused(wire.FETCH_REQUEST, raw({"ids": ids}), "'ids' is out of bounds")
    with pytest.raises(PeerProtocolError, match="'ids' is out of bounds"):
        wire.encode(wire.FETCH_REQUEST, {"ids": ids})
    too_many_to_decode = [ID] * (wire.MAX_IDS_PER_MESSAGE + 1)
    refused(wire.FETCH_REQUEST, raw({"ids": too_many_to_decode}), "not a valid message")


@pytest.mark.parametrize("schema", [wire.RECORDS, wire.FETCHED], ids=["records", "fetched"])
def test_too_many_records_are_refused(schema: wire.Schema) -> None:
    name = next(name for name, (sample, _) in SAMPLES.items() if sample is schema)
    records = [b"r"] * (wire.MAX_RECORDS_PER_MESSAGE + 1)
    refused(schema, raw({**SAMPLES[name][1], "records": records}), "'records' is out of bounds")


@pytest.mark.parametrize("size", [0, 1, 31, 33, 64])
def test_an_id_of_any_size_but_32_bytes_is_refused(size: int) -> None:
    match = "'ids' holds an item of the wrong type or size"
    refused(wire.FETCH_REQUEST, raw({"ids": [ID, b"\x07" * size]}), match)
    with pytest.raises(PeerProtocolError, match=match):
        wire.encode(wire.FETCH_REQUEST, {"ids": [b"\x07" * size]})


@pytest.mark.parametrize("schema", [wire.RECORDS, wire.FETCHED], ids=["records", "fetched"])
def test_an_oversized_record_is_refused(schema: wire.Schema) -> None:
    name = next(name for name, (sample, _) in SAMPLES.items() if sample is schema)
    oversized = {**SAMPLES[name][1], "records": [b"r" * ((1 << 20) + 1)]}
    refused(schema, raw(oversized), "not a valid message")


def test_a_fetch_answer_batch_leaves_room_in_the_body() -> None:
    """Records in one fetch answer stay under BATCH_BYTES, half the body limit, so the
    msgpack framing around them can never push the answer over MAX_BODY_BYTES."""
    assert wire.BATCH_BYTES == wire.MAX_BODY_BYTES // 2
    assert wire.FETCHED["handled"].bound == wire.FETCH_REQUEST["ids"].bound


def test_a_text_field_over_the_decoder_cap_is_refused() -> None:
    refused(wire.PAIR_REQUEST, raw({"url": "u" * (wire.MAX_TEXT + 1)}), "not a valid message")


def test_a_body_over_the_limit_is_refused_before_decoding() -> None:
    body = b"\xc0" * (wire.MAX_BODY_BYTES + 1)
    refused(wire.NOTIFY, body, f"over the limit of {wire.MAX_BODY_BYTES}")


def test_a_map_with_too_many_keys_is_refused() -> None:
    refused(wire.NOTIFY, raw({f"k{n}": n for n in range(17)}), "not a valid message")


def outcome(schema: wire.Schema, body: bytes) -> str:
    """The name of what decoding raised (kept short: a RecursionError's trace is huge)."""
    try:
        wire.decode(schema, body)
    except Exception as error:
        return type(error).__name__
    return "decoded"


@pytest.mark.parametrize("depth", [200, 1000])
def test_deeply_nested_junk_is_refused(depth: int) -> None:
    """One kilobyte of nested one-item arrays is a peer's junk like any other: msgpack
    accepts up to 1024 levels, so the check after decoding must not recurse past the stack."""
    as_field = b"\x81\xa3msg" + b"\x91" * depth + b"\xc0"
    assert outcome(wire.RECONCILE_RESPONSE, as_field) == "PeerProtocolError"
    assert outcome(wire.RECONCILE_RESPONSE, b"\x91" * depth + b"\xc0") == "PeerProtocolError"


# --- Anything at all --------------------------------------------------------------------


def check_only_protocol_errors(schema: wire.Schema, body: bytes) -> None:
    try:
        decoded = wire.decode(schema, body)
    except PeerProtocolError as error:
        assert str(error)
    else:
        assert set(decoded) == set(schema)


@settings(max_examples=150)
@given(st.sampled_from(sorted(SCHEMAS)), st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_protocol_errors(name: str, body: bytes) -> None:
    check_only_protocol_errors(SCHEMAS[name], body)


leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.binary(max_size=70)
    | st.text(max_size=20)
)
trees = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["ids", "msg", "session", "x"]) | st.text(max_size=5),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150)
@given(
    st.sampled_from(sorted(SCHEMAS)),
    st.dictionaries(
        st.sampled_from(["ids", "msg", "records", "session", "stored", "handled"]),
        trees,
        max_size=3,
    ),
)
def test_arbitrary_msgpack_maps_raise_only_protocol_errors(
    name: str, value: dict[str, Any]
) -> None:
    check_only_protocol_errors(SCHEMAS[name], raw(value))


@settings(max_examples=150)
@given(st.sampled_from(sorted(SAMPLES)), st.data())
def test_a_damaged_valid_message_raises_only_protocol_errors(
    name: str, data: st.DataObject
) -> None:
    schema, values = SAMPLES[name]
    body = bytearray(wire.encode(schema, values))
    index = data.draw(st.integers(0, len(body) - 1))
    body[index] = data.draw(st.integers(0, 255))
    check_only_protocol_errors(schema, bytes(body))
