"""The authorization matrix (issue 16, case 11; tests/e2e/test_authorization_matrix.py): one row
per HTTP route and per client frame that takes an id, saying which seeded object fills each id
and which roles may see it. The test derives the route list from the app's route table and the
frame list from chat/protocol/frames.ClientFrame, so a route or frame added without a row here
fails it.

A row's objects are private unless named in PUBLIC: a role outside `sees` must get exactly the
answer an id that does not exist gets (status, code and body), and the anonymous caller 401
(unless `anonymous_ok`). A role in `sees` must get a 2xx from a read (writes by those who may
make them are not sent: the matrix changes nothing it then reads)."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field

from chat.protocol import frames

# Everyone the matrix signs in. "member" is the private room's creator, and owns the
# member-private objects too (upload, file, proposed library document, report, sessions): the
# library's "proposer" and the files' "uploader" roles. "muted" is a room member muted there,
# "banned" a room member banned from the platform; "host", "panelist" and "attendee" are the
# webinar's roles (the attendee registered, and asked the pending question), "guest" a guest
# of the webinar; "project_member" a member of the project.
ROLES = ("anonymous", "outsider", "member", "removed", "muted", "banned", "moderator", "admin",
         "host", "panelist", "attendee", "guest", "project_member")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
# Who may read what every member may: not the banned (no session) nor a guest (its webinar only).
MEMBERS = SIGNED_IN - {"banned", "guest"}
STAFF = frozenset({"moderator", "admin"})
ROOM_MEMBERS = frozenset({"member", "muted"})  # "banned" is a member, but cannot sign in
BOARD_STAFF = frozenset({"host", "panelist"}) | STAFF
# Objects everyone signed in may see (or that name no one in particular): rows filled only with
# these check the anonymous caller and the guest (scoped to its webinar), and that no one
# gets a 5xx.
PUBLIC = frozenset({"user", "webinar", "project", "public_room"})



def missing_like(real: str) -> str:
    """An id that exists nowhere, of the real one's shape: a number for a number, else the same
    prefix (up to its first "-") and length, the rest "f"s (valid in hex and URL-safe base64)."""
    if real.isdigit():
        return "987654321"
    prefix, dash, rest = real.partition("-")
    if not dash or len(prefix) > 8:
        return "f" * len(real)
    return f"{prefix}-{'f' * len(rest)}"


@dataclass(frozen=True)
class Row:
    fill: dict[str, str]  # path parameter -> seeded object
    sees: frozenset[str] = MEMBERS
    body: dict[str, typing.Any] | None = None
    anonymous_ok: bool = False  # the route serves callers without a session (then: 404-alike)
    content: bytes | None = None  # a raw body instead of JSON
    long: bool = False  # a long poll: its reader waits, so only denials are sent
    probe: bool = True  # whether a read by one who may see it must answer 2xx


R = {"room": "room"}
T = {"topic": "topic"}
W = {"webinar": "webinar"}
P = {"project": "project"}
D = {"doc": "doc"}
DOC_SEES = frozenset({"member"}) | STAFF
Q = {"webinar": "webinar", "question": "question"}
Q_SEES = frozenset({"attendee"}) | BOARD_STAFF
POLL = {"webinar": "webinar", "poll": "draft_poll"}
POLL_SEES = frozenset({"host"}) | STAFF

HTTP_ROWS: dict[tuple[str, str], Row] = {
    ("DELETE", "/api/v1/account/sessions/{session}"): Row({"session": "session"}, frozenset({"member"})),
    ("GET", "/api/v1/members/{user_id}"): Row({"user_id": "user"}),
    ("PUT", "/api/v1/members/{user_id}/role"): Row({"user_id": "user"}, body={"role": "member"}),
    ("GET", "/api/v1/rooms/{room}/messages"): Row(R, ROOM_MEMBERS),
    ("PUT", "/api/v1/rooms/{room}/read"): Row(R, ROOM_MEMBERS, body={"seq": 1}),
    ("GET", "/api/v1/rooms/{room}/reads"): Row(R, ROOM_MEMBERS),
    ("PUT", "/api/v1/rooms/{room}/settings"): Row(R, ROOM_MEMBERS, body={"notify": "none"}),
    ("GET", "/api/v1/rooms/{room}/presence"): Row(R, ROOM_MEMBERS),
    ("GET", "/api/v1/rooms/{room}/messages/{message}/versions"): Row({"room": "room", "message": "message"},
                                                                     ROOM_MEMBERS),
    ("GET", "/api/v1/rooms/{room}/members"): Row(R, ROOM_MEMBERS),
    ("POST", "/api/v1/rooms/{room}/members"): Row(R, ROOM_MEMBERS, body={"user_id": "{user}"}),
    ("DELETE", "/api/v1/rooms/{room}/members/{user}"): Row({"room": "room", "user": "user"}, ROOM_MEMBERS),
    ("POST", "/api/v1/rooms/{room}/decline"): Row(R, ROOM_MEMBERS, body={}),
    ("PUT", "/api/v1/me/blocks/{user_id}"): Row({"user_id": "user"}),
    ("DELETE", "/api/v1/me/blocks/{user_id}"): Row({"user_id": "user"}),
    ("PUT", "/api/v1/rooms/{room}/status"): Row(R, ROOM_MEMBERS, body={"status": "answered"}),
    ("GET", "/api/v1/rooms/{room}/topics"): Row(R, ROOM_MEMBERS),
    ("POST", "/api/v1/rooms/{room}/topics"): Row(R, ROOM_MEMBERS, body={"title": "t", "body": "b"}),
    ("GET", "/api/v1/rooms/{room}/news"): Row(R, ROOM_MEMBERS),
    ("GET", "/api/v1/topics/{topic}"): Row(T, ROOM_MEMBERS),
    ("PATCH", "/api/v1/topics/{topic}"): Row(T, ROOM_MEMBERS, body={"resolved": True}),
    ("GET", "/api/v1/projects/{project}"): Row(P),
    ("PATCH", "/api/v1/projects/{project}"): Row(P, body={"city": "zhuhai"}),
    ("GET", "/api/v1/projects/{project}/updates"): Row(P),
    ("POST", "/api/v1/projects/{project}/updates"): Row(P, body={"happened_on": "2026-01-01", "body": "b"}),
    ("PUT", "/api/v1/projects/{project}/follow"): Row(P),
    ("DELETE", "/api/v1/projects/{project}/follow"): Row(P),
    ("POST", "/api/v1/projects/{project}/documents"): Row(P, body={"doc": "{doc}"}),
    ("DELETE", "/api/v1/projects/{project}/documents"): Row(P),
    ("GET", "/api/v1/webinars/{webinar}"): Row(W, MEMBERS | {"guest"}),
    ("PATCH", "/api/v1/webinars/{webinar}"): Row(W, body={"description": "d"}),
    ("POST", "/api/v1/webinars/{webinar}/start"): Row(W),
    ("POST", "/api/v1/webinars/{webinar}/end"): Row(W),
    ("POST", "/api/v1/webinars/{webinar}/cancel"): Row(W),
    ("GET", "/api/v1/webinars/{webinar}/calendar.ics"): Row(W),
    ("PUT", "/api/v1/webinars/{webinar}/chat"): Row(W, body={"mode": "open"}),
    ("PUT", "/api/v1/webinars/{webinar}/registration"): Row(W),
    ("DELETE", "/api/v1/webinars/{webinar}/registration"): Row(W),
    ("POST", "/api/v1/webinars/{webinar}/guests"): Row(W, anonymous_ok=True, body={"display_name": "Gus"}),
    ("GET", "/api/v1/rooms/{room}/webinars"): Row({"room": "public_room"}),
    ("GET", "/api/v1/webinars/{webinar}/board"): Row(W, MEMBERS | {"guest"}),
    ("POST", "/api/v1/webinars/{webinar}/questions"): Row(W, body={"body": "q?"}),
    ("PATCH", "/api/v1/webinars/{webinar}/questions/{question}"): Row(Q, Q_SEES, body={"body": "edited"}),
    ("POST", "/api/v1/webinars/{webinar}/questions/{question}/moderation"): Row(Q, Q_SEES, body={"action": "approve"}),
    ("PUT", "/api/v1/webinars/{webinar}/questions/{question}/vote"): Row(Q, Q_SEES),
    ("DELETE", "/api/v1/webinars/{webinar}/questions/{question}/vote"): Row(Q, Q_SEES),
    ("POST", "/api/v1/webinars/{webinar}/polls"): Row(W, body={"question": {"en": "q"},
                                                              "options": [{"en": "a"}, {"en": "b"}]}),
    ("POST", "/api/v1/webinars/{webinar}/polls/{poll}/open"): Row(POLL, POLL_SEES),
    ("POST", "/api/v1/webinars/{webinar}/polls/{poll}/close"): Row(POLL, POLL_SEES),
    ("POST", "/api/v1/webinars/{webinar}/polls/{poll}/publish"): Row(POLL, POLL_SEES),
    ("PUT", "/api/v1/webinars/{webinar}/polls/{poll}/answer"): Row(POLL, POLL_SEES, body={"choices": [0]}),
    ("POST", "/api/v1/moderation/reports/{report}/actions"): Row({"report": "report"}, STAFF,
                                                                 body={"action": "dismiss"}),
    ("GET", "/api/v1/moderation/members/{user_id}"): Row({"user_id": "user"}, STAFF),
    ("POST", "/api/v1/moderation/members/{user_id}/actions"): Row({"user_id": "user"}, body={"action": "warn"}),
    ("GET", "/api/v1/rooms/{room}/export"): Row(R, ROOM_MEMBERS),
    ("GET", "/api/v1/topics/{topic}/export"): Row(T, ROOM_MEMBERS),
    ("GET", "/api/v1/webinars/{webinar}/export"): Row(W),
    ("GET", "/api/v1/uploads/{upload}"): Row({"upload": "upload"}, frozenset({"member"})),
    ("PATCH", "/api/v1/uploads/{upload}"): Row({"upload": "upload"}, frozenset({"member"}), content=b"x"),
    ("DELETE", "/api/v1/uploads/{upload}"): Row({"upload": "upload"}, frozenset({"member"})),
    ("GET", "/api/v1/files/{file}"): Row({"file": "file"}, ROOM_MEMBERS),
    ("GET", "/api/v1/files/{file}/preview"): Row({"file": "file"}, ROOM_MEMBERS, probe=False),  # text: none
    ("GET", "/api/v1/files/{file}/meta"): Row({"file": "file"}, ROOM_MEMBERS),
    ("GET", "/api/v1/library/{doc}"): Row(D, DOC_SEES),
    ("PATCH", "/api/v1/library/{doc}"): Row(D, DOC_SEES, body={"year": 2020}),
    ("POST", "/api/v1/library/{doc}/versions"): Row(D, DOC_SEES, body={"file": "{own_file}"}),
    ("GET", "/api/v1/library/{doc}/download"): Row(D, DOC_SEES),
    ("POST", "/api/v1/library/{doc}/review"): Row(D, DOC_SEES, body={"action": "publish"}),
    ("POST", "/api/v1/library/{doc}/share"): Row(D, DOC_SEES, body={"room": "zhuhai", "cid": "share-1"}),
    ("GET", "/api/v1/poll/{session}"): Row({"session": "poll_session"}, frozenset({"member"}), long=True),
    ("POST", "/api/v1/poll/{session}"): Row({"session": "poll_session"}, frozenset({"member"}),
                                            body={"frames": [{"type": "ping"}]}),
    ("DELETE", "/api/v1/poll/{session}"): Row({"session": "poll_session"}, frozenset({"member"})),
}


@dataclass(frozen=True)
class FrameRow:
    templates: list[dict[str, typing.Any]] = field(default_factory=list)  # "{room}", "{message}", "{member}"
    sees: frozenset[str] = ROOM_MEMBERS


FRAME_ROWS: dict[type, FrameRow] = {
    frames.Join: FrameRow([{"type": "join", "room": "{room}"}, {"type": "join", "room": "{room}", "since": 0},
                           {"type": "join", "room": "{topic}"}]),
    frames.Leave: FrameRow([{"type": "leave", "room": "{room}"}]),
    frames.Send: FrameRow([{"type": "send", "room": "{room}", "body": "hi", "cid": "p1"},
                           {"type": "send", "room": "{topic}", "body": "hi", "cid": "p1t"}]),
    frames.Edit: FrameRow([{"type": "edit", "room": "{room}", "id": "{message}", "body": "x", "cid": "p2"}]),
    frames.Delete: FrameRow([{"type": "delete", "room": "{room}", "id": "{message}", "cid": "p3"}]),
    frames.React: FrameRow([{"type": "react", "room": "{room}", "id": "{message}", "emoji": "👍", "cid": "p4"}]),
    frames.Typing: FrameRow([{"type": "typing", "room": "{room}"}]),
    frames.Read: FrameRow([{"type": "read", "room": "{room}", "seq": 1}]),
    frames.Search: FrameRow([{"type": "search", "rid": "s1", "q": "private", "rooms": ["{room}"]}]),
    frames.Report: FrameRow([{"type": "report", "rid": "r1", "reason": "spam", "room": "{room}", "id": "{message}"}]),
    frames.Ping: FrameRow(),  # takes no id
}


def client_frame_types() -> set[type]:
    return set(typing.get_args(frames.ClientFrame))
