"""What a transcript holds, independent of its format: a header, then records in order.

Writers (chat/export/formats/) turn these into bytes; the service (chat/export/service.py)
reads them from the store page by page. Times are ms since the epoch (UTC); writers show them
in the header's zone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

ExportFormat = Literal["markdown", "html", "pdf", "jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("markdown", "html", "pdf", "jsonl", "csv")
Lang = Literal["en", "zh"]
# What a transcript covers: a room by its kind, a member's own data, or an admin's selection.
Scope = Literal["sector", "city", "direct", "topic", "news", "webinar", "personal", "compliance"]
# A part of a transcript: a webinar's export has all three, other rooms only "chat".
Section = Literal["chat", "questions", "polls"]


@dataclass(frozen=True, slots=True)
class Header:
    """What every export states before its content (issue 12, "Formats")."""

    scope: Scope
    room_id: str | None  # None for personal and compliance exports
    title_en: str
    title_zh: str
    from_ms: int | None  # the range asked for; None = from the beginning
    to_ms: int | None  # None = up to when the export was made
    time_zone: str  # IANA name every time is shown in
    lang: Lang  # the labels' language
    made_at_ms: int
    made_by_id: int | None  # None: an operator at the command line
    made_by_name: str
    participants: tuple[str, ...]  # display names of who wrote in the range, sorted
    format: ExportFormat


@dataclass(frozen=True, slots=True)
class Reaction:
    emoji: str
    names: tuple[str, ...]  # who reacted, display names, in the order they reacted


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a room's timeline, in its final state.

    kind "message": `text`/`html` are the final body (an edited message shows its final text,
    `edited_at_ms` set; a deleted one has `deleted` and empty text). Other kinds are events
    about the room, their facts in `data` as the room log holds them: "status" (a direct
    conversation's consultation status), "membership", "webinar", "topic" (a topic or news
    post listed in the room: data["topic"]). `thread_id` is set on the replies of a topic that
    a room's export shows right after the topic's entry (where they belong).
    """

    room_id: str
    seq: int
    entry_id: str
    at_ms: int
    kind: Literal["message", "status", "membership", "webinar", "topic"]
    author_id: int
    author_name: str
    author_role: str
    text: str = ""
    html: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    edited_at_ms: int | None = None
    deleted: bool = False
    reactions: tuple[Reaction, ...] = ()
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """A webinar question as the requester may see it on the board (anonymous: no author)."""

    question_id: str
    at_ms: int
    author_name: str | None
    state: str
    pinned: bool
    votes: int
    text: str
    answer: str
    answer_html: str
    answered_by_name: str | None


@dataclass(frozen=True, slots=True)
class PollRecord:
    """A webinar poll and its results (counts only where the requester may see them)."""

    poll_id: str
    at_ms: int
    question_en: str
    question_zh: str
    options: tuple[tuple[str, str], ...]  # (en, zh) per option
    multiple: bool
    state: str
    counts: tuple[int, ...] | None  # None: results not visible to the requester
    answers: int | None


Record = Entry | QuestionRecord | PollRecord


def size_text(size: int) -> str:
    """1234567 → "1.2 MB" (decimal units, as file managers show them)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # not reached


def attachment_lines(attachments: object) -> list[str]:
    """What a transcript says of a message's files: "📎 name (type, size)" each; never bytes."""
    if not isinstance(attachments, list):
        return []
    return [f"📎 {a.get('name')} ({a.get('type')}, {size_text(int(a.get('size') or 0))})"
            for a in attachments if isinstance(a, dict) and isinstance(a.get("name"), str)]


def with_attachments(text: str, html_text: str, attachments: object) -> tuple[str, str]:
    """A body's text and HTML with its files listed after it (one line each)."""
    lines = attachment_lines(attachments)
    if not lines:
        return text, html_text
    text = "\n\n".join(part for part in (text, "\n".join(lines)) if part)
    html_text += "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return text, html_text
