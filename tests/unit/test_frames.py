"""chat.protocol.frames, sans I/O: every client frame type, and every way a field can be wrong.

A bad frame raises FrameError with a code the client can act on, names the field, and carries
the frame's `cid` when (and only when) it is a send's usable client id.
"""

from __future__ import annotations

import pytest

from chat.models import Message
from chat.protocol.frames import (
    MAX_CID_CHARS, FrameError, Join, Leave, Ping, Send, ack_frame, error_frame, is_room_id,
    joined_frame, message_frame, parse, resync_frame,
)

MAX_BODY = 100


def parsed(doc: object) -> object:
    return parse(doc, max_body_chars=MAX_BODY)


def refused(doc: object) -> FrameError:
    with pytest.raises(FrameError) as info:
        parse(doc, max_body_chars=MAX_BODY)
    return info.value


def send(**fields: object) -> dict[str, object]:
    return {"type": "send", "room": "hefei", "body": "hello", "cid": "c1", **fields}


def without(doc: dict[str, object], key: str) -> dict[str, object]:
    return {k: v for k, v in doc.items() if k != key}


# -- good frames ---------------------------------------------------------------------------


def test_each_frame_type_parses_to_its_dataclass():
    assert parsed(send()) == Send("hefei", "hello", "c1")
    assert parsed({"type": "join", "room": "zhuhai"}) == Join("zhuhai", None)
    assert parsed({"type": "join", "room": "zhuhai", "since": 0}) == Join("zhuhai", 0)
    assert parsed({"type": "join", "room": "zhuhai", "since": 41}) == Join("zhuhai", 41)
    assert parsed({"type": "join", "room": "zhuhai", "since": None}) == Join("zhuhai", None)
    assert parsed({"type": "leave", "room": "zhuhai"}) == Leave("zhuhai")
    assert parsed({"type": "ping"}) == Ping()


def test_limits_are_inclusive():
    assert parsed(send(body="好" * MAX_BODY)).body == "好" * MAX_BODY
    assert parsed(send(cid="x" * MAX_CID_CHARS)).cid == "x" * MAX_CID_CHARS
    assert parsed(send(room="a" * 64)).room_id == "a" * 64
    assert parsed(send(room="0-9")).room_id == "0-9"


def test_unknown_extra_fields_are_ignored_and_the_body_is_kept_verbatim():
    frame = parsed(send(body="  柳州 **bold**\n", extra={"x": 1}))
    assert frame == Send("hefei", "  柳州 **bold**\n", "c1")


# -- the frame itself ----------------------------------------------------------------------


@pytest.mark.parametrize("doc", [None, 1, "send", b"send", [], [{"type": "ping"}], 1.5, True],
                         ids=repr)
def test_a_frame_that_is_not_a_map_is_bad_frame(doc):
    error = refused(doc)
    assert error.code == "bad_frame" and "map" in error.message and error.cid is None


@pytest.mark.parametrize("kind", [None, 1, True, ["send"], {"send": 1}, b"send"], ids=repr)
def test_a_missing_or_non_string_type_is_bad_frame(kind):
    doc = {"room": "hefei", "cid": "c9"} if kind is None else {"type": kind, "cid": "c9"}
    error = refused(doc)
    assert error.code == "bad_frame" and "'type'" in error.message
    assert error.cid == "c9"


@pytest.mark.parametrize("kind", ["", "SEND", "Send", "send ", "message", "ack", "dance"])
def test_an_unknown_type_is_unknown_type_and_keeps_the_cid(kind):
    error = refused({"type": kind, "cid": "c7"})
    assert error.code == "unknown_type" and error.cid == "c7"
    assert refused({"type": kind}).cid is None


# -- send ----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["room", "body", "cid"])
def test_send_missing_a_field_is_invalid_and_names_it(field):
    error = refused(without(send(), field))
    assert error.code == "invalid" and f"'{field}'" in error.message


BAD_ROOMS = ["", "A", "Hefei", "he fei", "he_fei", "hefei/", "a" * 65, "é", "合肥", "hefei\n",
             "\x00", 7, 7.0, True, None, ["hefei"], {"id": "hefei"}, b"hefei"]


@pytest.mark.parametrize("room", BAD_ROOMS, ids=repr)
def test_bad_room_ids_are_invalid_for_every_frame_that_names_a_room(room):
    for doc in (send(room=room), {"type": "join", "room": room}, {"type": "leave", "room": room}):
        error = refused(doc)
        assert error.code == "invalid" and "'room'" in error.message, doc
        assert not is_room_id(room)
    assert refused(send(room=room)).cid == "c1"  # the client learns which send failed


@pytest.mark.parametrize("body", ["", " ", "\n\t  \r\n", "\u3000", 5, 5.5, True, None,
                                  ["hello"], {"text": "hello"}, b"hello"], ids=repr)
def test_an_empty_blank_or_non_string_body_is_invalid(body):
    error = refused(send(body=body))
    assert error.code == "invalid" and "'body'" in error.message and error.cid == "c1"


def test_an_oversized_body_is_too_large():
    error = refused(send(body="x" * (MAX_BODY + 1)))
    assert error.code == "too_large" and str(MAX_BODY) in error.message and error.cid == "c1"
    # characters, not bytes: CJK bodies get the same allowance
    assert refused(send(body="好" * (MAX_BODY + 1))).code == "too_large"


@pytest.mark.parametrize("cid", ["", "x" * (MAX_CID_CHARS + 1), 5, 5.0, True, None, ["c1"],
                                 b"c1"], ids=repr)
def test_a_bad_cid_is_invalid_and_is_not_echoed(cid):
    error = refused(send(cid=cid))
    assert error.code == "invalid" and "'cid'" in error.message
    assert error.cid is None


# -- join ----------------------------------------------------------------------------------


@pytest.mark.parametrize("since", [-1, -(2**63), True, False, 1.0, 1.5, "1", "", [1], {"n": 1},
                                   b"1", float("nan")], ids=repr)
def test_join_since_must_be_a_whole_number_at_least_zero(since):
    error = refused({"type": "join", "room": "hefei", "since": since})
    assert error.code == "invalid" and "'since'" in error.message


def test_join_and_leave_missing_room_are_invalid():
    assert refused({"type": "join"}).code == "invalid"
    assert refused({"type": "leave"}).code == "invalid"
    assert refused({"type": "join", "since": 3}).code == "invalid"


def test_errors_never_quote_the_body():
    secret = "my secret body 密文"
    for doc in (send(body=secret * 10), send(body=secret, room="BAD"), send(body=secret, cid="")):
        error = refused(doc)
        assert secret not in error.message and secret not in str(error)


# -- server frames -------------------------------------------------------------------------


def test_server_frames_have_the_documented_shapes():
    message = Message("hefei", 7, "mid", 3, "王芳", "c1", "hi", 1_700_000_000_123)
    assert message_frame(message) == {
        "type": "message", "room": "hefei", "seq": 7, "id": "mid",
        "author": {"id": 3, "name": "王芳"}, "body": "hi", "html": "",
        "sent_at": "2023-11-14T22:13:20.123Z"}
    assert ack_frame(message) == {"type": "ack", "room": "hefei", "cid": "c1", "seq": 7, "id": "mid"}
    assert error_frame(FrameError("invalid", "m")) == {"type": "error", "code": "invalid",
                                                       "message": "m", "retry": False}
    assert error_frame(FrameError("invalid", "m"), "c1")["cid"] == "c1"
    assert joined_frame("hefei", 7) == {"type": "joined", "room": "hefei", "seq": 7}
    assert resync_frame("hefei", 7) == {"type": "resync", "room": "hefei", "seq": 7}


def test_event_frames_name_their_target():
    base = dict(room_id="hefei", seq=9, message_id="ev", author_id=3, author_name="王芳", cid="c2",
                sent_at_ms=1_700_000_000_123)
    edit = message_frame(Message(**base, body="new", kind="edit", target_id="mid", html="<p>new</p>"))
    assert edit["type"] == "edit" and edit["target"] == "mid" and edit["html"] == "<p>new</p>"
    delete = message_frame(Message(**base, body="", kind="delete", target_id="mid"))
    assert delete["type"] == "delete" and delete["target"] == "mid" and "body" not in delete
    reaction = message_frame(Message(**base, body="", kind="reaction", target_id="mid",
                                     data={"emoji": "👍", "added": True}))
    assert (reaction["type"], reaction["emoji"], reaction["added"]) == ("reaction", "👍", True)
    tombstone = message_frame(Message(**base, body="", deleted=True, edited_at_ms=1_700_000_000_200))
    assert tombstone["deleted"] is True and tombstone["edited_at"].endswith(".200Z")


def test_edit_delete_react_frames_parse_and_refuse_bad_fields():
    edit = parse({"type": "edit", "room": "hefei", "id": "m1", "body": "fixed", "cid": "e1"},
                 max_body_chars=100)
    assert (edit.message_id, edit.body, edit.cid) == ("m1", "fixed", "e1")
    react = parse({"type": "react", "room": "hefei", "id": "m1", "emoji": "👍🏽", "cid": "r1"},
                  max_body_chars=100)
    assert react.add is True and react.emoji == "👍🏽"
    assert parse({"type": "delete", "room": "hefei", "id": "m1", "cid": "d1"}, max_body_chars=100).cid == "d1"
    for bad in (
        {"type": "edit", "room": "hefei", "body": "x", "cid": "e"},  # no id
        {"type": "edit", "room": "hefei", "id": 5, "body": "x", "cid": "e"},
        {"type": "edit", "room": "hefei", "id": "m", "body": " ", "cid": "e"},
        {"type": "react", "room": "hefei", "id": "m", "emoji": "ok", "cid": "r"},
        {"type": "react", "room": "hefei", "id": "m", "emoji": "", "cid": "r"},
        {"type": "react", "room": "hefei", "id": "m", "emoji": "👍", "add": 1, "cid": "r"},
        {"type": "send", "room": "hefei", "body": "x", "cid": "s", "mentions": [True]},
        {"type": "send", "room": "hefei", "body": "x", "cid": "s", "mentions": "3"},
        {"type": "send", "room": "hefei", "body": "x", "cid": "s", "mentions": list(range(1, 60))},
    ):
        assert refused(bad).code == "invalid", bad


# -- values the store cannot hold, and text rules ---------------------------------------------

HOSTILE_SENDS = [
    ("mention past 64 bits", send(mentions=[2**63]), "mentions", "c1"),
    ("mention far past 64 bits", send(mentions=[2**64 + 1]), "mentions", "c1"),
    ("mention true", send(mentions=[True]), "mentions", "c1"),
    ("NUL in the body", send(body="a\x00b"), "body", "c1"),
    ("surrogate in the body", send(body="a\ud800"), "body", "c1"),
    ("escape in the body", send(body="a\x1b[2J"), "body", "c1"),
    ("NUL in the cid", send(cid="c\x00"), "cid", None),
    ("surrogate in the cid", send(cid="\udc00"), "cid", None),
    ("bidi override in the cid", send(cid="c\u202e"), "cid", None),
    ("emoji NUL", {"type": "react", "room": "hefei", "id": "AAAA", "emoji": "\x00", "cid": "r"}, "emoji", "r"),
    ("emoji surrogate", {"type": "react", "room": "hefei", "id": "AAAA", "emoji": "\ud83d", "cid": "r"}, "emoji", "r"),
    ("message id with NUL", {"type": "delete", "room": "hefei", "id": "AA\x00A", "cid": "d"}, "id", "d"),
    ("message id not URL-safe", {"type": "delete", "room": "hefei", "id": "AA/A", "cid": "d"}, "id", "d"),
    ("since past 64 bits", {"type": "join", "room": "hefei", "since": 2**63}, "since", None),
    ("read seq past 64 bits", {"type": "read", "room": "hefei", "seq": 2**63}, "seq", None),
]


@pytest.mark.parametrize("doc,field,cid", [case[1:] for case in HOSTILE_SENDS],
                         ids=[case[0] for case in HOSTILE_SENDS])
def test_values_no_store_can_hold_are_invalid_when_decoded(doc, field, cid):
    error = refused(doc)
    assert (error.code, error.cid) == ("invalid", cid)
    assert f"'{field}'" in error.message


def test_the_largest_values_that_fit_are_taken():
    assert parsed(send(mentions=[2**63 - 1])).mentions == (2**63 - 1,)
    assert parsed({"type": "join", "room": "hefei", "since": 2**63 - 1}).since == 2**63 - 1
    assert parsed(send(body="line\r\nnext\ttab \u202e mixed")).body.startswith("line")
    assert parsed({"type": "react", "room": "hefei", "id": "Ab-_9", "emoji": "👩‍🔬", "cid": "r"}).emoji == "👩‍🔬"


# -- attachments ---------------------------------------------------------------------------

FILE_A, FILE_B = "f-" + "a" * 22, "f-" + "B_-9" * 5 + "xy"


def test_a_send_takes_up_to_ten_file_ids_and_may_then_have_no_body():
    assert parsed(send(attachments=[FILE_A, FILE_B])) == Send("hefei", "hello", "c1", (), (FILE_A, FILE_B))
    assert parsed(send(body="", attachments=[FILE_A])) == Send("hefei", "", "c1", (), (FILE_A,))
    assert parsed(without(send(attachments=[FILE_A]), "body")).body == ""
    ten = [f"f-{i:022d}" for i in range(10)]
    assert parsed(send(attachments=ten)).attachments == tuple(ten)
    assert parsed(send(attachments=[FILE_A, FILE_A])).attachments == (FILE_A,)  # once each
    assert parsed(send(attachments=[])).attachments == ()


@pytest.mark.parametrize("attachments", [
    [f"f-{i:022d}" for i in range(11)], FILE_A, [FILE_A, 7], ["a" * 24], ["f-"], ["f-" + "a" * 63],
    ["f-abc/def"], ["f-\x00"], [None], {"id": FILE_A}, True], ids=repr)
def test_bad_attachment_lists_are_invalid_and_keep_the_cid(attachments):
    error = refused(send(attachments=attachments))
    assert error.code == "invalid" and "'attachments'" in error.message and error.cid == "c1"


@pytest.mark.parametrize("body", ["", "  ", None], ids=repr)
def test_a_send_without_body_and_files_is_still_invalid(body):
    error = refused(send(body=body, attachments=[]))
    assert error.code == "invalid" and "'body'" in error.message


def test_message_frames_carry_attachments_unless_deleted():
    wire = [{"id": FILE_A, "name": "城市更新.pdf", "type": "application/pdf", "size": 9, "kind": "pdf",
             "preview": {"w": 480, "h": 640}}]
    message = Message("hefei", 7, "mid", 3, "王芳", "c1", "", 1_700_000_000_123, data={"attachments": wire})
    assert message_frame(message)["attachments"] == wire
    assert "attachments" not in message_frame(Message("hefei", 7, "mid", 3, "王芳", "c1", "hi", 1))
    tombstone = Message("hefei", 7, "mid", 3, "王芳", "c1", "", 1, data={"attachments": wire}, deleted=True)
    assert "attachments" not in message_frame(tombstone)
