"""Client frames: validation of decoded maps into typed frames, and server frame builders."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TypeGuard

from chat.clock import iso_ms
from chat.errors import ChatError, FrameError
from chat.models import STAFF_ROLES, Message, SearchParams
from chat.text import INT64_MAX, is_clean, is_int64, text_problem

ROOM_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
# Message ids are secrets.token_urlsafe() (chat/store/batch.py): URL-safe base64.
MESSAGE_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MAX_CID_CHARS = 64
MAX_MESSAGE_ID_CHARS = 64
MAX_MENTIONS = 50
MAX_EMOJI_CHARS = 16
MAX_ATTACHMENTS = 10
# File ids are "f-" and secrets.token_urlsafe() (chat/files): URL-safe base64.
MAX_FILE_ID_CHARS = 64


@dataclass(frozen=True, slots=True)
class Join:
    room_id: str
    since: int | None


@dataclass(frozen=True, slots=True)
class Leave:
    room_id: str


@dataclass(frozen=True, slots=True)
class Send:
    room_id: str
    body: str
    cid: str
    mentions: tuple[int, ...] = ()
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edit:
    room_id: str
    message_id: str
    body: str
    cid: str


@dataclass(frozen=True, slots=True)
class Delete:
    room_id: str
    message_id: str
    cid: str


@dataclass(frozen=True, slots=True)
class React:
    room_id: str
    message_id: str
    emoji: str
    add: bool
    cid: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


@dataclass(frozen=True, slots=True)
class Typing:
    room_id: str


@dataclass(frozen=True, slots=True)
class Read:
    room_id: str
    seq: int


@dataclass(frozen=True, slots=True)
class Search:
    """A search (docs/protocol.md, "Search"): the parameters' types are checked here, their
    values by the search service (chat/search/service.py), which answers both transports."""

    rid: str
    params: SearchParams


@dataclass(frozen=True, slots=True)
class Report:
    """A report to the moderators (docs/protocol.md, "Moderation"): of a message (room_id and
    message_id) or of a member (member_id); the reason's value, the note's length and whether
    the message may be reported are the moderation service's to check."""

    rid: str
    reason: str
    note: str
    room_id: str | None
    message_id: str | None
    member_id: int | None


ClientFrame = Join | Leave | Send | Edit | Delete | React | Ping | Typing | Read | Search | Report
# Frames answered by request id (rid) rather than by cid.
RID_FRAMES = ("search", "report")
MAX_REPORT_NOTE_CHARS = 1000


def is_room_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= 64 and ROOM_ID_CHARS.issuperset(value)


def parse(doc: Any, *, max_body_chars: int) -> ClientFrame:
    """Validate one decoded frame. Raises FrameError naming the first wrong field.

    Every field is checked here, before anything reaches a service or the store: integers in
    signed 64-bit, strings free of NUL, controls and unpaired surrogates (chat/text.py), and
    within their lengths. A value the store cannot hold would otherwise fail the group-commit
    transaction that other members' sends share.
    """
    if not isinstance(doc, dict):
        raise FrameError("bad_frame", "a frame must be a map with a 'type'")
    kind = doc.get("type")
    cid = usable_cid(doc.get("cid"))  # only a usable cid is echoed in an error
    if kind == "send":
        room = _room(doc, cid)
        attachments = _attachments(doc, cid)
        body = _body(doc, max_body_chars, cid, empty_ok=bool(attachments))
        return Send(room, body, _cid(doc), _mentions(doc, cid), attachments)
    if kind == "edit":
        return Edit(_room(doc, cid), _message_id(doc, cid), _body(doc, max_body_chars, cid), _cid(doc))
    if kind == "delete":
        return Delete(_room(doc, cid), _message_id(doc, cid), _cid(doc))
    if kind == "react":
        return React(_room(doc, cid), _message_id(doc, cid), _emoji(doc, cid), _add(doc, cid), _cid(doc))
    if kind == "join":
        return Join(_room(doc, None), _since(doc))
    if kind == "leave":
        return Leave(_room(doc, None))
    if kind == "ping":
        return Ping()
    if kind == "typing":
        return Typing(_room(doc, None))
    if kind == "read":
        return Read(_room(doc, None), _seq(doc))
    if kind == "search":
        return _search(doc)
    if kind == "report":
        return _report(doc)
    if not isinstance(kind, str):
        raise FrameError("bad_frame", "'type' must be a string", cid)
    raise FrameError("unknown_type", "unknown frame type (see docs/protocol.md)", cid)


def usable_cid(cid: object) -> str | None:
    """The cid if it is one (echoing anything else in an error frame could fail to encode:
    an unpaired surrogate has no UTF-8 form)."""
    if isinstance(cid, str) and 0 < len(cid) <= MAX_CID_CHARS and is_clean(cid):
        return cid
    return None


def _room(doc: dict[str, Any], cid: str | None) -> str:
    room = doc.get("room")
    if not is_room_id(room):
        raise FrameError("invalid", "'room' must be a room id: 1-64 of a-z, 0-9 and '-'", cid)
    return room


def _body(doc: dict[str, Any], max_body_chars: int, cid: str | None, *, empty_ok: bool = False) -> str:
    body = doc.get("body", "" if empty_ok else None)
    if not isinstance(body, str) or not (body.strip() or empty_ok):
        raise FrameError("invalid", "'body' must be a string (empty only with attachments)" if empty_ok
                         else "'body' must be a non-empty string", cid)
    if len(body) > max_body_chars:
        raise FrameError("too_large", f"'body' is longer than {max_body_chars} characters", cid)
    problem = text_problem(body, multiline=True)
    if problem is not None:
        raise FrameError("invalid", f"'body' {problem}", cid)
    return body


def _cid(doc: dict[str, Any]) -> str:
    cid = doc.get("cid")
    if not isinstance(cid, str) or not 0 < len(cid) <= MAX_CID_CHARS:
        raise FrameError("invalid", f"'cid' must be a string of 1-{MAX_CID_CHARS} characters")
    problem = text_problem(cid)
    if problem is not None:
        raise FrameError("invalid", f"'cid' {problem}")
    return cid


def _message_id(doc: dict[str, Any], cid: str | None) -> str:
    message_id = doc.get("id")
    if (not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS
            or not MESSAGE_ID_CHARS.issuperset(message_id)):
        raise FrameError("invalid", "'id' must be the id of a message", cid)
    return message_id


def _mentions(doc: dict[str, Any], cid: str | None) -> tuple[int, ...]:
    mentions = doc.get("mentions", [])
    if (not isinstance(mentions, list) or len(mentions) > MAX_MENTIONS
            or not all(is_int64(user_id, low=1) for user_id in mentions)):
        raise FrameError("invalid", f"'mentions' must be a list of at most {MAX_MENTIONS} user ids"
                                    f" (whole numbers from 1 to {INT64_MAX})", cid)
    return tuple(dict.fromkeys(mentions))


def is_file_id(value: object) -> TypeGuard[str]:
    return (isinstance(value, str) and 2 < len(value) <= MAX_FILE_ID_CHARS and value.startswith("f-")
            and MESSAGE_ID_CHARS.issuperset(value))


def attachment_ids(value: object) -> tuple[str, ...] | None:
    """A list of at most MAX_ATTACHMENTS file ids, duplicates dropped (order kept); None if the
    value is not one. Shared by the socket's `send` and the HTTP bodies that take attachments."""
    if (not isinstance(value, list) or len(value) > MAX_ATTACHMENTS
            or not all(is_file_id(file_id) for file_id in value)):
        return None
    return tuple(dict.fromkeys(value))


ATTACHMENTS_PROBLEM = f"'attachments' must be a list of at most {MAX_ATTACHMENTS} file ids (\"f-…\")"


def _attachments(doc: dict[str, Any], cid: str | None) -> tuple[str, ...]:
    ids = attachment_ids(doc.get("attachments", []))
    if ids is None:
        raise FrameError("invalid", ATTACHMENTS_PROBLEM, cid)
    return ids


def _emoji(doc: dict[str, Any], cid: str | None) -> str:
    emoji = doc.get("emoji")
    # One emoji may be several code points (skin tones, ZWJ sequences, flags), but never text.
    if (not isinstance(emoji, str) or not 0 < len(emoji) <= MAX_EMOJI_CHARS
            or any(ch.isalnum() or ch.isspace() or ch in "<>&\"'" for ch in emoji)
            or not is_clean(emoji)):
        raise FrameError("invalid", "'emoji' must be a single emoji", cid)
    return emoji


def _add(doc: dict[str, Any], cid: str | None) -> bool:
    add = doc.get("add", True)
    if not isinstance(add, bool):
        raise FrameError("invalid", "'add' must be true or false", cid)
    return add


def _seq(doc: dict[str, Any]) -> int:
    seq = doc.get("seq")
    if not is_int64(seq):  # bool is an int in Python; see _since
        raise FrameError("invalid", f"'seq' must be a whole number from 0 to {INT64_MAX}")
    return seq


def _since(doc: dict[str, Any]) -> int | None:
    since = doc.get("since")
    if since is None:
        return None
    # bool is an int in Python; a client sending true means a bug, not seq 1.
    if not is_int64(since):
        raise FrameError("invalid", f"'since' must be a whole number from 0 to {INT64_MAX}")
    return since


MAX_RID_CHARS = 64
MAX_SEARCH_LIST = 20  # rooms, kinds, authors: the service holds the exact rules
MAX_SEARCH_STRING_CHARS = 1000  # q, cursor and each listed string, before the service's limits


def usable_rid(rid: object) -> str | None:
    """A request id fit to echo (as usable_cid)."""
    return rid if isinstance(rid, str) and 0 < len(rid) <= MAX_RID_CHARS and is_clean(rid) else None


def _report(doc: dict[str, Any]) -> Report:
    rid = usable_rid(doc.get("rid"))
    if rid is None:
        raise FrameError("invalid", f"'rid' must be a string of 1-{MAX_RID_CHARS} characters: your id for"
                                    " this request, echoed in its answer")

    def refuse(name: str, what: str) -> FrameError:
        return FrameError("invalid", f"'{name}' must be {what}", rid=rid, details={name: what})

    reason, note = doc.get("reason"), doc.get("note", "")
    if not isinstance(reason, str) or not 0 < len(reason) <= 32 or not is_clean(reason):
        raise refuse("reason", "one of spam, abuse, harassment, illegal, other")
    if not isinstance(note, str) or len(note) > MAX_REPORT_NOTE_CHARS or text_problem(note, multiline=True):
        raise refuse("note", f"text of at most {MAX_REPORT_NOTE_CHARS} characters")
    room, message_id, member = doc.get("room"), doc.get("id"), doc.get("member")
    if member is not None:
        if room is not None or message_id is not None or not is_int64(member, low=1):
            raise refuse("member", f"a member's id (a whole number from 1 to {INT64_MAX}), without room and id")
        return Report(rid, reason, note, None, None, member)
    if not is_room_id(room):
        raise refuse("room", "a room id: 1-64 of a-z, 0-9 and '-' (or give 'member')")
    if (not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID_CHARS
            or not MESSAGE_ID_CHARS.issuperset(message_id)):
        raise refuse("id", "the id of a message")
    return Report(rid, reason, note, room, message_id, None)


def reported_frame(rid: str, report: dict[str, Any], created: bool) -> dict[str, Any]:
    return {"type": "reported", "rid": rid, "report": report, "created": created}


def _search(doc: dict[str, Any]) -> Search:
    rid = usable_rid(doc.get("rid"))
    if rid is None:
        raise FrameError("invalid", f"'rid' must be a string of 1-{MAX_RID_CHARS} characters: your id for"
                                    " this request, echoed in its answer")

    def refuse(name: str, what: str) -> FrameError:
        return FrameError("invalid", f"'{name}' must be {what}", rid=rid, details={name: what})

    def string(name: str, value: object) -> str:
        if not isinstance(value, str) or len(value) > MAX_SEARCH_STRING_CHARS or not is_clean(value, multiline=True):
            raise refuse(name, f"a string of at most {MAX_SEARCH_STRING_CHARS} characters")
        return value

    def optional_string(name: str) -> str | None:
        value = doc.get(name)
        return None if value is None else string(name, value)

    def strings(name: str) -> tuple[str, ...]:
        value = doc.get(name)
        if value is None:
            return ()
        if not isinstance(value, list) or len(value) > MAX_SEARCH_LIST:
            raise refuse(name, f"a list of at most {MAX_SEARCH_LIST} strings")
        return tuple(string(name, item) for item in value)

    def whole(name: str, *, low: int = 0) -> int | None:
        value = doc.get(name)
        if value is None:
            return None
        if not is_int64(value, low=low):
            raise refuse(name, f"a whole number from {low} to {INT64_MAX}")
        return value

    authors = doc.get("authors")
    if authors is not None and not (isinstance(authors, list) and len(authors) <= MAX_SEARCH_LIST
                                    and all(is_int64(a, low=1) for a in authors)):
        raise refuse("authors", f"a list of at most {MAX_SEARCH_LIST} user ids")
    has_files = doc.get("has_files")
    if has_files is not None and not isinstance(has_files, bool):
        raise refuse("has_files", "true, false or null")
    if "q" not in doc:
        raise refuse("q", "the words to look for")
    return Search(rid, SearchParams(
        string("q", doc["q"]), rooms=strings("rooms"), kinds=strings("kinds"), authors=tuple(authors or ()),
        since_ms=whole("since_ms"), until_ms=whole("until_ms"), lang=optional_string("lang"),
        has_files=has_files, order=optional_string("order"), cursor=optional_string("cursor"),
        limit=whole("limit")))


# -- server frames ------------------------------------------------------------------------


def staff_marked(author: dict[str, Any], role: str) -> dict[str, Any]:
    """An author map ({id, name}) with `role` added for staff (moderator, admin), and
    `guest: true` for a webinar's guest (role "guest", models.AuthorRole), whose names clients
    mark, and `deleted: true` for a deleted account (its name is "", which no living account
    has: chat/store/deletion.py), whom clients show as "deleted member" in their language;
    members' maps stay as they were."""
    if author["name"] == "":
        author["deleted"] = True
        return author
    if role in STAFF_ROLES:
        author["role"] = role
    elif role == "guest":
        author["guest"] = True
    return author


def author_json(message: Message) -> dict[str, Any]:
    return staff_marked({"id": message.author_id, "name": message.author_name}, message.author_role)


def message_frame(message: Message) -> dict[str, Any]:
    """The frame of a room log entry: `message`, `edit`, `delete` or `reaction`.

    A message carries its current body and its server-rendered, sanitised `html` (a replay
    shows later edits already applied, flagged by `edited_at`, and a deleted message as a
    tombstone with `deleted: true`; the `edit`/`delete` events follow in their own seqs).
    Events name the message they are about in `target`.
    """
    frame: dict[str, Any] = {
        "type": message.kind,
        "room": message.room_id,
        "seq": message.seq,
        "id": message.message_id,
        "author": author_json(message),
        "sent_at": iso_ms(message.sent_at_ms),
    }
    kind = message.kind
    if kind == "message":
        frame["body"] = message.body
        frame["html"] = message.html
        mentions = message.data.get("mentions")
        if mentions:
            frame["mentions"] = mentions
        project_update = message.data.get("project_update")
        if project_update:  # an eco-city project's update, told in its thread (chat/projects/)
            frame["project_update"] = project_update
        attachments = message.data.get("attachments")
        if attachments and not message.deleted:
            frame["attachments"] = attachments
        if message.edited_at_ms is not None:
            frame["edited_at"] = iso_ms(message.edited_at_ms)
        if message.deleted:
            frame["deleted"] = True
    elif kind == "edit":
        frame["target"] = message.target_id
        frame["body"] = message.body
        frame["html"] = message.html
    elif kind == "delete":
        frame["target"] = message.target_id
    elif kind == "reaction":
        frame["target"] = message.target_id
        frame["emoji"] = message.data.get("emoji")
        frame["added"] = bool(message.data.get("added"))
    elif kind == "topic":
        frame["topic"] = message.data.get("topic")
    elif kind == "status":
        frame["status"] = message.data.get("status")
    elif kind == "membership":
        frame.update({key: message.data.get(key) for key in ("change", "user", "by")})
    elif kind == "webinar":
        frame["change"] = message.data.get("change")
        frame["webinar"] = message.data.get("webinar")
        if message.data.get("auto"):
            frame["auto"] = True  # the sweep ended it, not a host
    elif kind in ("question", "question_state"):
        frame["change"] = message.data.get("change")
        frame["question"] = message.data.get("question")
        if message.data.get("anonymous"):
            frame["author"] = None  # an anonymous asker's own change: who made it is not shown
    elif kind == "poll":
        frame["change"] = message.data.get("change")
        frame["poll"] = message.data.get("poll")
    return frame


def ack_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "ack",
        "room": message.room_id,
        "cid": message.cid,
        "seq": message.seq,
        "id": message.message_id,
    }


def error_frame(error: ChatError, cid: str | None = None, rid: str | None = None) -> dict[str, Any]:
    """The `error` frame of any error in the tree; `retry` comes from its class, and
    `retry_after` (whole seconds, as HTTP's Retry-After) from a refusal that passes with time.
    The answer to a request with a `rid` (a search, a report) echoes it, with the error's
    `details`; so does any error whose class sets `frame_details` (a mute's end)."""
    frame: dict[str, Any] = {"type": "error", "code": error.code, "message": error.message,
                             "retry": error.retry}
    if error.retry_after_s is not None:
        frame["retry_after"] = max(1, math.ceil(error.retry_after_s))
    if cid is not None:
        frame["cid"] = cid
    if rid is not None:
        frame["rid"] = rid
    if (rid is not None or error.frame_details) and error.details is not None:
        frame["details"] = error.details
    return frame


def search_results_frame(rid: str, results: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    return {"type": "search_results", "rid": rid, "results": results, "next": next_cursor}


def joined_frame(room_id: str, seq: int) -> dict[str, Any]:
    return {"type": "joined", "room": room_id, "seq": seq}


def resync_frame(room_id: str, seq: int) -> dict[str, Any]:
    return {"type": "resync", "room": room_id, "seq": seq}


def left_frame(room_id: str, reason: str | None = None) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "left", "room": room_id}
    if reason is not None:
        frame["reason"] = reason  # "removed": you are no longer a member
    return frame


PONG = {"type": "pong"}
