"""JSON Lines: one JSON object per line, complete and machine-readable; the schema, field by field,
is docs/protocol.md, "Exports" ("JSON Lines"). Every line has `type`: "header" first, then
"section", "message", "event", "question" and "poll" lines, and "digest" last. Times are ISO 8601
in the export's zone (with its offset) plus `at_ms` (UTC ms)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from chat.export.labels import event_text, iso_local
from chat.export.records import Entry, Header, PollRecord, QuestionRecord, Record, Section

SCHEMA_VERSION = 1


def line(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


class JsonLinesWriter:
    media_type = "application/x-ndjson; charset=utf-8"
    extension = "jsonl"

    def __init__(self) -> None:
        self._zone = "UTC"
        self._header: Header | None = None

    def start(self, header: Header) -> bytes:
        self._zone = header.time_zone
        self._header = header
        return line({
            "type": "header",
            "version": SCHEMA_VERSION,
            "scope": header.scope,
            "room": header.room_id,
            "title": {"en": header.title_en, "zh": header.title_zh},
            "from": None if header.from_ms is None else iso_local(header.from_ms, self._zone),
            "to": None if header.to_ms is None else iso_local(header.to_ms, self._zone),
            "time_zone": header.time_zone,
            "lang": header.lang,
            "made_at": iso_local(header.made_at_ms, self._zone),
            "made_by": None if header.made_by_id is None else {"id": header.made_by_id, "name": header.made_by_name},
            "participants": list(header.participants),
            "format": header.format,
        })

    def section(self, name: Section) -> bytes:
        return line({"type": "section", "name": name})

    def records(self, batch: Sequence[Record]) -> bytes:
        return b"".join(line(self._record(record)) for record in batch)

    def end(self, sha256_hex: str) -> bytes:
        return line({"type": "digest", "sha256": sha256_hex})

    def _record(self, record: Record) -> dict[str, Any]:
        if isinstance(record, Entry):
            return self._entry(record)
        if isinstance(record, QuestionRecord):
            return {
                "type": "question", "id": record.question_id,
                "at": iso_local(record.at_ms, self._zone), "at_ms": record.at_ms,
                "author": record.author_name, "state": record.state, "pinned": record.pinned,
                "votes": record.votes, "text": record.text,
                "answer": record.answer or None, "answer_html": record.answer_html or None,
                "answered_by": record.answered_by_name,
            }
        assert isinstance(record, PollRecord)
        return {
            "type": "poll", "id": record.poll_id,
            "at": iso_local(record.at_ms, self._zone), "at_ms": record.at_ms,
            "question": {"en": record.question_en, "zh": record.question_zh},
            "options": [{"en": en, "zh": zh} for en, zh in record.options],
            "multiple": record.multiple, "state": record.state,
            "counts": None if record.counts is None else list(record.counts), "answers": record.answers,
        }

    def _entry(self, entry: Entry) -> dict[str, Any]:
        common: dict[str, Any] = {
            "room": entry.room_id, "seq": entry.seq, "id": entry.entry_id,
            "at": iso_local(entry.at_ms, self._zone), "at_ms": entry.at_ms,
            "author": {"id": entry.author_id, "name": entry.author_name, "role": entry.author_role},
            "thread": entry.thread_id,
        }
        if entry.kind == "message":
            return {
                "type": "message", **common,
                "text": entry.text, "html": entry.html,
                "edited_at": None if entry.edited_at_ms is None else iso_local(entry.edited_at_ms, self._zone),
                "deleted": entry.deleted,
                "reactions": [{"emoji": r.emoji, "names": list(r.names)} for r in entry.reactions],
            }
        lang = self._header.lang if self._header is not None else "en"
        return {"type": "event", "kind": entry.kind, **common, "text": event_text(lang, entry),
                "body": entry.text or None, "html": entry.html or None, "data": entry.data}


def writer() -> JsonLinesWriter:
    return JsonLinesWriter()
