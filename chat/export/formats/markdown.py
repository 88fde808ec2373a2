"""Markdown: a readable transcript that stays Markdown. Messages keep their Markdown body as the
member wrote it (its final text); names, titles and events are escaped so they cannot open
Markdown of their own. The last line is `SHA-256: <hex>`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chat.export.labels import event_text, header_fields, label, local_time, state_name, title
from chat.export.records import Entry, Header, PollRecord, QuestionRecord, Record, Section

# What could open Markdown (or HTML) inside a line: emphasis, code, links, tags, entities, tables,
# strikethrough. Names and titles never start a line, so block markers (#, -, 1.) need nothing.
_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")


def escape(text: str) -> str:
    """Plain text as Markdown that shows exactly that text (on one line)."""
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def quoted(text: str, prefix: str = "") -> str:
    """A body as its own paragraph; inside a reply, every line quoted."""
    lines = text.splitlines() or [""]
    return "\n".join(f"{prefix}{line}".rstrip() for line in lines)


class MarkdownWriter:
    media_type = "text/markdown; charset=utf-8"
    extension = "md"

    def __init__(self) -> None:
        self._header: Header | None = None

    def start(self, header: Header) -> bytes:
        self._header = header
        lines = [f"# {escape(label(header.lang, 'transcript'))}: {escape(title(header))}", ""]
        lines += [f"- **{escape(name)}:** {escape(value)}" for name, value in header_fields(header)]
        return ("\n".join(lines) + "\n").encode()

    def section(self, name: Section) -> bytes:
        assert self._header is not None
        return f"\n## {escape(label(self._header.lang, name))}\n".encode()

    def records(self, batch: Sequence[Record]) -> bytes:
        return "".join(self._record(record) for record in batch).encode()

    def end(self, sha256_hex: str) -> bytes:
        return f"SHA-256: {sha256_hex}\n".encode()

    def _time(self, ms: int) -> str:
        assert self._header is not None
        return local_time(ms, self._header.time_zone)

    def _record(self, record: Record) -> str:
        assert self._header is not None
        lang = self._header.lang
        if isinstance(record, Entry):
            return self._entry(record)
        if isinstance(record, QuestionRecord):
            who = escape(record.author_name) if record.author_name else f"*{label(lang, 'anonymous')}*"
            marks = [state_name(lang, record.state), f"{label(lang, 'votes')}: {record.votes}"]
            if record.pinned:
                marks.append(label(lang, "pinned"))
            out = f"\n**{who}** · {self._time(record.at_ms)} · {escape(' · '.join(marks))}\n\n{quoted(record.text)}\n"
            if record.answer or record.answered_by_name:
                by = escape(record.answered_by_name or "")
                out += f"\n> **{escape(label(lang, 'answer'))}** ({by})\n>\n{quoted(record.answer, '> ')}\n"
            return out
        assert isinstance(record, PollRecord)
        question = record.question_zh or record.question_en if lang == "zh" else record.question_en or record.question_zh
        out = f"\n**{escape(question)}** · {self._time(record.at_ms)} · {escape(state_name(lang, record.state))}"
        if record.multiple:
            out += f" · {escape(label(lang, 'multiple'))}"
        out += "\n\n"
        for index, (en, zh) in enumerate(record.options):
            option = (zh or en) if lang == "zh" else (en or zh)
            count = "" if record.counts is None else f": {record.counts[index]}"
            out += f"- {escape(option)}{count}\n"
        if record.counts is None:
            out += f"\n*{escape(label(lang, 'results_hidden'))}*\n"
        else:
            out += f"\n{escape(label(lang, 'answers'))}: {record.answers}\n"
        return out

    def _entry(self, entry: Entry) -> str:
        assert self._header is not None
        lang = self._header.lang
        prefix = "> " if entry.thread_id is not None else ""
        when = self._time(entry.at_ms)
        if entry.kind != "message":
            line = f"{prefix}*{escape(event_text(lang, entry))}* · {escape(entry.author_name)} · {when}\n"
            if entry.kind == "topic" and entry.text:
                line += f"{prefix}\n{quoted(entry.text, prefix)}\n"
            return "\n" + line
        head = f"{prefix}**{escape(entry.author_name)}** · {when}"
        if entry.edited_at_ms is not None and not entry.deleted:
            head += f" {label(lang, 'edited')}"
        body = f"*{label(lang, 'deleted')}*" if entry.deleted else entry.text
        out = f"\n{head}\n{prefix}\n{quoted(body, prefix)}\n"
        for reaction in entry.reactions:
            out += f"{prefix}\n{prefix}{reaction.emoji} {escape(', '.join(reaction.names))}\n"
        return out


def writer() -> MarkdownWriter:
    return MarkdownWriter()
