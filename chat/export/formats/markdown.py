"""Markdown: a readable transcript that stays Markdown. Messages keep their Markdown body as the
member wrote it (its final text), kept to itself (`contained`: a code fence or HTML block it
opens cannot run over the messages after it); names, titles and events are escaped so they
cannot open Markdown of their own, and a webinar question (plain text, not Markdown) shows as
its words (`plain`). The last line is `SHA-256: <hex>`."""

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


# A line that opens or closes a code fence, and one that could open an HTML block (a comment,
# <pre>, <script> … runs to its closing tag, else to the end of the document).
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_HTML_START = re.compile(r" {0,3}<")


def contained(text: str) -> str:
    """A body's Markdown kept to itself, so it cannot swallow the messages after it: a code
    fence it leaves open is closed at its end, and outside fences a line that could open an
    HTML block starts with an escaped '<' (it still reads '<')."""
    out: list[str] = []
    fence: tuple[str, int] | None = None  # the open fence's character and length
    for line in text.splitlines():
        match = _FENCE.match(line)
        if fence is None:
            if match and not (match.group(1)[0] == "`" and "`" in match.group(2)):
                fence = (match.group(1)[0], len(match.group(1)))
            elif _HTML_START.match(line):
                line = line.replace("<", "\\<", 1)
        elif (match and match.group(1)[0] == fence[0] and len(match.group(1)) >= fence[1]
              and not match.group(2).strip()):
            fence = None
        out.append(line)
    if fence is not None:
        out.append(fence[0] * fence[1])
    return "\n".join(out)


_BLOCK_START = re.compile(r"([#>+=-])|(\d{1,9})([.)])")


def plain(text: str) -> str:
    """Plain text (a webinar question, which is not Markdown) as Markdown that shows exactly
    its words, line by line: inline markup escaped, and a line that would start a heading,
    quote, list or rule starts escaped."""
    lines = []
    for line in text.splitlines():
        line = escape(line)
        match = _BLOCK_START.match(line)
        if match and match.group(1):
            line = "\\" + line
        elif match:
            line = f"{match.group(2)}\\{line[len(match.group(2)):]}"
        lines.append(line)
    return "\n".join(lines)


def quoted(text: str, prefix: str = "") -> str:
    """A body as its own paragraph (contained); inside a reply, every line quoted."""
    lines = contained(text).splitlines() or [""]
    return "\n".join(f"{prefix}{line}".rstrip() for line in lines)


class MarkdownWriter:
    media_type = "text/markdown; charset=utf-8"
    extension = "md"
    # Streamed (and hashed) before the digest line: without the blank line, a viewer reads
    # the digest line as the last message's (a paragraph, a quote, a table row goes on).
    before_digest = b"\n"

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
            out = f"\n**{who}** · {self._time(record.at_ms)} · {escape(' · '.join(marks))}\n\n{quoted(plain(record.text))}\n"
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
