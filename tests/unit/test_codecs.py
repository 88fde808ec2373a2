"""chat.protocol.codecs, sans I/O: the two wire formats decode the same maps, and anything that
is not a well-formed document of the connection's format is a DecodeError — never another
exception type escaping into the frame loop."""

from __future__ import annotations

import json

import msgpack
import pytest

from chat.protocol.codecs import JSON, MSGPACK, DecodeError, choose

FRAME = {"type": "send", "room": "liuzhou", "body": "电动公交 ✓ e-bus", "cid": "c1"}


@pytest.mark.parametrize("codec", [JSON, MSGPACK], ids=["json", "msgpack"])
def test_round_trip_keeps_the_map_and_cjk_text(codec):
    data = codec.encode(FRAME)
    assert isinstance(data, bytes if codec.binary else str)
    assert codec.decode(data) == FRAME


def test_json_is_compact_utf8_not_ascii_escaped():
    assert JSON.encode({"body": "好"}) == '{"body":"好"}'


def test_msgpack_encoding_matches_plain_packb():
    # browsers use @msgpack/msgpack, which encodes byte-for-byte like msgpack.packb
    assert MSGPACK.encode(FRAME) == msgpack.packb(FRAME)


@pytest.mark.parametrize("data", [
    "", "not json", "{", '{"type": "ping"', "{'type': 'ping'}", '{"type": "ping"} x',
    "[1, 2,]", '{"a": 1,}', "\x00", b"\xff\xfe\x00", b"\xc3\x28", b"{\"type\": \"\xff\"}",
], ids=repr)
def test_bad_json_is_a_decode_error(data):
    with pytest.raises(DecodeError, match="JSON"):
        JSON.decode(data)


@pytest.mark.parametrize("depth", [10_000, 60_000])
def test_deeply_nested_json_is_a_decode_error_not_a_crash(depth):
    for doc in ("[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth):
        with pytest.raises(DecodeError):
            JSON.decode(doc)


@pytest.mark.parametrize("data", [json.dumps(FRAME).encode(), b"", b"{}"], ids=repr)
def test_a_binary_frame_on_json_is_a_decode_error_whatever_it_holds(data):
    # One frame type per subprotocol: text on msgpack is refused too (below).
    with pytest.raises(DecodeError, match="binary frame"):
        JSON.decode(data)


def test_json_values_that_are_not_maps_still_decode():
    # Decoding is only the format; frames.parse refuses non-maps with bad_frame.
    assert JSON.decode("[1, 2]") == [1, 2]
    assert JSON.decode('"ping"') == "ping"
    assert JSON.decode("null") is None


@pytest.mark.parametrize("data", [
    b"", b"\xc1", b"\x81", b"\x82\xa4type\xa4ping", b"\x92\x01", b"\xa5abc",
    b"\xdb\xff\xff\xff\xff", b"\xdf\xff\xff\xff\xff", b"\xdd\xff\xff\xff\xff",
    b"\x80\x80", msgpack.packb({"type": "ping"}) + b"\x00",
    b"\xa2\xff\xfe",  # a str whose bytes are not UTF-8
], ids=lambda d: d[:12].hex())
def test_bad_msgpack_is_a_decode_error(data):
    with pytest.raises(DecodeError, match="msgpack"):
        MSGPACK.decode(data)


def test_deeply_nested_msgpack_is_a_decode_error_not_a_crash():
    with pytest.raises(DecodeError):
        MSGPACK.decode(b"\x91" * 100_000 + b"\xc0")
    with pytest.raises(DecodeError):
        MSGPACK.decode(b"\x81\xa1a" * 100_000 + b"\xc0")


@pytest.mark.parametrize("doc", [{1: "ping"}, {None: 1}, {1.5: "x"}, {(1, 2): "x"},
                                 {"type": "send", "meta": {3: "x"}}], ids=repr)
def test_msgpack_maps_with_non_string_keys_are_refused(doc):
    # packb writes any hashable key (a tuple becomes an array); the decoder takes str keys only
    with pytest.raises(DecodeError):
        MSGPACK.decode(msgpack.packb(doc))


@pytest.mark.parametrize("text", ['{"type": "ping"}', "", "\x92\x01"], ids=repr)
def test_a_text_frame_on_msgpack_is_refused_even_if_it_is_valid_json(text):
    with pytest.raises(DecodeError, match="binary frames"):
        MSGPACK.decode(text)


def test_decode_errors_are_value_errors_with_a_cause():
    with pytest.raises(DecodeError) as info:
        JSON.decode("{")
    assert isinstance(info.value, ValueError) and info.value.__cause__ is not None


@pytest.mark.parametrize(("offered", "expected"), [
    ([], JSON),
    (["ecolink.v1.json"], JSON),
    (["ecolink.v1.msgpack"], MSGPACK),
    (["ecolink.v1.msgpack", "ecolink.v1.json"], MSGPACK),
    (["chat", "ecolink.v1.json"], JSON),
    ([" ecolink.v1.msgpack "], MSGPACK),
    (["chat"], None),
    (["ecolink.v2.json"], None),
    (["ECOLINK.V1.JSON"], None),
    ([""], None),
])
def test_choose_picks_the_first_offered_subprotocol_we_speak(offered, expected):
    assert choose(offered) is expected


def test_json_text_and_msgpack_bytes_carry_the_same_map():
    assert json.loads(JSON.encode(FRAME)) == msgpack.unpackb(MSGPACK.encode(FRAME))
