"""The bus envelope (chat/protocol/bus.py): every kind round-trips with its sender, a room
event's body is byte for byte the msgpack wire frame, and anything else is a BusError."""

from __future__ import annotations

import msgpack
import pytest

from chat.protocol import bus
from chat.protocol.codecs import MSGPACK

FRAME = {"type": "message", "room": "zhuhai", "seq": 7, "id": 70, "body": "你好",
         "author": {"id": 1, "name": "ann"}, "sent_at": "2026-01-01T00:00:00+00:00"}


def test_a_room_event_carries_the_wire_frame_untouched():
    wire = MSGPACK.encode(FRAME)
    payload = bus.BusWriter("node-a").room_event(wire)
    envelope = bus.decode(payload)
    assert (envelope.kind, envelope.node, envelope.body) == (bus.Kind.ROOM_EVENT, "node-a", FRAME)
    assert envelope.wire == wire
    # The envelope is itself plain msgpack: [kind, node, frame].
    assert msgpack.unpackb(payload) == [bus.Kind.ROOM_EVENT, "node-a", FRAME]


N1 = bus.BusWriter("n1")


@pytest.mark.parametrize(("payload", "kind", "body"), [
    (N1.ephemeral({"type": "typing", "room": "zhuhai"}), bus.Kind.EPHEMERAL,
     {"type": "typing", "room": "zhuhai"}),
    (N1.eviction(42), bus.Kind.EVICTION, 42),
    (N1.session_ended(42, b"\x01" * 32), bus.Kind.SESSION_ENDED, [42, b"\x01" * 32]),
    (N1.presence_changed(["zhuhai", "hefei"]), bus.Kind.PRESENCE_CHANGED, ["zhuhai", "hefei"]),
], ids=["ephemeral", "eviction", "session_ended", "presence_changed"])
def test_every_kind_round_trips_with_its_sender(payload, kind, body):
    envelope = bus.decode(payload)
    assert (envelope.kind, envelope.node, envelope.body, envelope.wire) == (kind, "n1", body, None)
    assert N1.is_own(payload)
    assert not bus.BusWriter("n10").is_own(payload) and not bus.BusWriter("n").is_own(payload)


@pytest.mark.parametrize("payload", [
    b"",
    msgpack.packb(FRAME),  # the old shape: a bare frame
    msgpack.packb(["n1", {"type": "typing"}]),  # the old ephemeral shape
    msgpack.packb([99, "n1", 1]),  # an unknown kind
    msgpack.packb([bus.Kind.EVICTION, "n1", "42"]),  # wrong body shape
    msgpack.packb([bus.Kind.ROOM_EVENT, "n1", {"type": "message"}]),  # no seq
    msgpack.packb([bus.Kind.SESSION_ENDED, "n1", [42, "not bytes"]]),
    msgpack.packb([bus.Kind.PRESENCE_CHANGED, "n1", ["ok", 3]]),
    N1.eviction(1)[:-1] + b"\xc1",  # a byte msgpack never uses
    N1.room_event(MSGPACK.encode(FRAME)) + b"\x00",  # trailing bytes
], ids=["empty", "bare-frame", "old-ephemeral", "unknown-kind", "eviction-str", "event-no-seq",
        "session-str", "presence-int", "bad-byte", "trailing"])
def test_anything_else_is_a_bus_error(payload):
    with pytest.raises(bus.BusError):
        bus.decode(payload)


def test_node_ids_must_fit_the_fixed_header():
    with pytest.raises(ValueError, match="node id"):
        bus.BusWriter("n" * 32)
