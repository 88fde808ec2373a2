"""The board as JSON (docs/protocol.md, "The Q&A board"): a question as everyone sees it (the
log's `question` and `question_state` events carry this), as its hosts see it (with who asked
an anonymous one), and a poll with or without its counts."""

from __future__ import annotations

from typing import Any

from chat.clock import iso_ms
from chat.models import Poll, Question
from chat.protocol.frames import staff_marked


def _person(user_id: int, name: str, role: str = "member") -> dict[str, Any]:
    return staff_marked({"id": user_id, "name": name}, role)  # staff's role, guests' mark


def question_view(question: Question, *, hosting: bool = False) -> dict[str, Any]:
    """The question as every member sees it (`author` null when anonymous); `hosting` adds
    `asked_by`, who asked it, for its hosts and the platform's moderators."""
    x = question
    author = None if x.anonymous else _person(x.author_id, x.author_name, x.author_role)
    view: dict[str, Any] = {
        "id": x.question_id,
        "room": x.webinar_id,
        "body": x.body,
        "anonymous": x.anonymous,
        "author": author,
        "state": x.state,
        "pinned": x.pinned,
        "answer": None if x.answered_by is None and not x.answer else {
            "body": x.answer, "html": x.answer_html,
            "by": None if x.answered_by is None else _person(x.answered_by, x.answered_by_name or "")},
        "votes": [x.votes, x.votes_version],
        "version": x.version,
        "asked_at": iso_ms(x.created_at_ms),
        "updated_at": iso_ms(x.updated_at_ms),
    }
    if hosting:
        view["asked_by"] = _person(x.author_id, x.author_name, x.author_role)
    return view


def poll_view(poll: Poll, *, counts: bool) -> dict[str, Any]:
    """The poll; its `counts` (per option) and `answers` (members who answered) only when
    `counts` (results public, or the viewer hosts), else null."""
    p = poll
    return {
        "id": p.poll_id,
        "room": p.webinar_id,
        "question": {"en": p.question_en, "zh": p.question_zh},
        "options": [{"en": o.en, "zh": o.zh} for o in p.options],
        "multiple": p.multiple,
        "state": p.state,
        "results_public": p.results_public,
        "counts": list(p.counts) if counts else None,
        "answers": p.answers if counts else None,
        "version": p.counts_version,
        "opened_at": None if p.opened_at_ms is None else iso_ms(p.opened_at_ms),
        "closed_at": None if p.closed_at_ms is None else iso_ms(p.closed_at_ms),
    }
