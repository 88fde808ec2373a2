"""What the index holds of each thing that is not a message (no I/O): a topic or news post, a
webinar question and its answer, a project, a published library document, as SearchEntry.

The stores build these inside the transactions that change their sources (chat/store/
conversations.py, board.py, projects.py) and again when the index is rebuilt (chat/store/
search_sources.py), from the same functions, so a rebuilt index equals the live one. The
library service builds documents' entries with the text it extracts (chat/search/extract.py).

Texts are indexed as typed (a topic's Markdown source, like a message's): the tokenizer keeps
only letters and digits, so Markdown's marks make no terms. docs/protocol.md, "Search: what is
indexed".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chat.models import Document, Question, QuestionState, SearchEntry, Topic
from chat.search.tokens import MAX_INDEXED_CHARS

# A question is found in these states only: pending ones await a moderator, dismissed and
# withdrawn ones are off the board for its attendees.
SEARCHABLE_QUESTION_STATES: tuple[QuestionState, ...] = ("open", "answering", "answered")


def joined(*parts: str) -> str:
    """The non-empty parts, a blank line apart, cut at what an entry indexes."""
    return "\n\n".join(part.strip() for part in parts if part and part.strip())[:MAX_INDEXED_CHARS]


def both_titles(title_en: str, title_zh: str) -> str:
    """"English / 中文", or whichever one there is (as a shared document's link reads)."""
    return " / ".join(title for title in (title_en.strip(), title_zh.strip()) if title)


def attachment_names(attachments: Iterable[dict[str, Any]]) -> str:
    return " ".join(a["name"] for a in attachments if isinstance(a.get("name"), str))


def topic_entry(topic: Topic) -> SearchEntry:
    """A topic or news post, found by the readers of its thread (its own room)."""
    return SearchEntry(
        kind=topic.kind, ref_id=topic.topic_id, room_id=topic.topic_id, seq=None,
        author_id=topic.author_id, created_at_ms=topic.created_at_ms, title=topic.title,
        body=joined(topic.summary, topic.body), has_files=bool(topic.attachments),
        extra=attachment_names(topic.attachments))


def question_entries(question: Question) -> list[SearchEntry]:
    """The question's entries as its state leaves them: none unless it is on the board
    (SEARCHABLE_QUESTION_STATES); else the question (no author when asked anonymously, so
    `from:` never reveals who asked) and, once it has one, its answer (ref_id: the question's
    id; dated like the question: the board keeps no time of the answer)."""
    q = question
    if q.state not in SEARCHABLE_QUESTION_STATES:
        return []
    entries = [SearchEntry(
        kind="question", ref_id=q.question_id, room_id=q.webinar_id, seq=None,
        author_id=None if q.anonymous else q.author_id, created_at_ms=q.created_at_ms, title="",
        body=joined(q.body))]
    if q.answer.strip():
        entries.append(SearchEntry(
            kind="answer", ref_id=q.question_id, room_id=q.webinar_id, seq=None, author_id=q.answered_by,
            created_at_ms=q.created_at_ms, title="", body=joined(q.answer)))
    return entries


def project_entry(*, project_id: str, name_en: str, name_zh: str, city: str, description: str,
                  organisations: Iterable[str], created_by: int, created_at_ms: int,
                  has_documents: bool) -> SearchEntry:
    """A project (its page's fields, as the store reads them; `city`: the city room's titles):
    every member may read every project (chat/projects/service.py), so it has no room. Its
    timeline's updates are not entries of their own: each is a message in the project's
    thread, indexed as one."""
    return SearchEntry(
        kind="project", ref_id=project_id, room_id=None, seq=None, author_id=created_by,
        created_at_ms=created_at_ms, title=both_titles(name_en, name_zh),
        body=joined(description, "\n".join(organisations), city), has_files=has_documents)


def document_entry(doc: Document, text: str = "") -> SearchEntry:
    """A published document: its titles, its description and the text of its current
    version's file (`text`; "" when none could be read), for every member."""
    return SearchEntry(
        kind="document", ref_id=doc.doc_id, room_id=None, seq=None, author_id=doc.proposed_by,
        created_at_ms=doc.listed_at_ms, title=both_titles(doc.meta.title_en, doc.meta.title_zh),
        body=joined(doc.meta.description, text), has_files=True)
