"""The `read` client frame (chat/protocol/frames.py), validated without sockets."""

from __future__ import annotations

import pytest

from chat.protocol.frames import FrameError, Read, parse


def read(**fields):
    return parse({"type": "read", **fields}, max_body_chars=100)


def test_a_read_frame_names_a_room_and_a_seq():
    assert read(room="hefei", seq=0) == Read("hefei", 0)
    assert read(room="hefei", seq=12, extra="ignored") == Read("hefei", 12)


@pytest.mark.parametrize("fields", [
    {"room": "hefei"}, {"room": "hefei", "seq": -1}, {"room": "hefei", "seq": True},
    {"room": "hefei", "seq": 1.0}, {"room": "hefei", "seq": "3"}, {"room": "hefei", "seq": None},
    {"seq": 1}, {"room": "user:7", "seq": 1}, {"room": "Hefei", "seq": 1},
])
def test_bad_read_frames_are_invalid(fields):
    with pytest.raises(FrameError) as caught:
        read(**fields)
    assert caught.value.code == "invalid"
