"""HTML: one self-contained file, readable offline and printable. Styles are inline in one
<style> element; there is no <script>, no <link>, no remote image or font: nothing is loaded
from anywhere (a Content-Security-Policy meta tag says so to the browser as well). A message's
body is the sanitised HTML the server rendered when it was sent (chat/rooms/rendering.py, as the
client shows it); every other text is escaped (html.escape, quotes too). The last line is the
`<footer>` stating the SHA-256 of every byte before it, then `</body></html>`."""

from __future__ import annotations

from collections.abc import Sequence

from html import escape as _escape

from chat.export.labels import event_text, header_fields, iso_local, label, local_time, state_name, title
from chat.export.records import Entry, Header, PollRecord, QuestionRecord, Record, Section

STYLE = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
color:#1b1f23;max-width:52rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:0 0 1rem}dl.meta dt{font-weight:600}
dl.meta dd{margin:0}article{margin:.8rem 0;padding:.2rem 0;break-inside:avoid}
article header{color:#57606a;font-size:.85rem}article header b{color:#1b1f23}
article.reply{margin-left:1.5rem;padding-left:.8rem;border-left:3px solid #d0d7de}
p.event{color:#57606a;font-style:italic;margin:.5rem 0}.deleted{color:#8c959f;font-style:italic}
.reactions{font-size:.85rem;color:#57606a}.answer{margin:.4rem 0 .4rem 1rem;padding-left:.8rem;border-left:3px solid #2da44e}
.body img{max-width:100%}pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem}
footer{margin-top:2rem;font-size:.8rem;color:#57606a;word-break:break-all}
@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}a{color:inherit}}
""".strip()
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def escape(text: object) -> str:
    return _escape("" if text is None else str(text), quote=True)


class HtmlWriter:
    media_type = "text/html; charset=utf-8"
    extension = "html"

    def __init__(self) -> None:
        self._header: Header | None = None

    def start(self, header: Header) -> bytes:
        self._header = header
        lang = "zh-Hans" if header.lang == "zh" else "en"
        heading = escape(f"{label(header.lang, 'transcript')}: {title(header)}")
        meta = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in header_fields(header))
        return (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{heading}</title><style>{STYLE}</style></head>\n"
            f'<body><h1>{heading}</h1><dl class="meta">{meta}</dl>\n'
        ).encode()

    def section(self, name: Section) -> bytes:
        assert self._header is not None
        return f'<h2 id="{escape(name)}">{escape(label(self._header.lang, name))}</h2>\n'.encode()

    def records(self, batch: Sequence[Record]) -> bytes:
        return "".join(self._record(record) for record in batch).encode()

    def end(self, sha256_hex: str) -> bytes:
        return f'<footer id="digest">SHA-256 {escape(sha256_hex)}</footer></body></html>\n'.encode()

    def _time(self, ms: int) -> str:
        assert self._header is not None
        zone = self._header.time_zone
        return f'<time datetime="{escape(iso_local(ms, zone))}">{escape(local_time(ms, zone))}</time>'

    def _record(self, record: Record) -> str:
        assert self._header is not None
        lang = self._header.lang
        if isinstance(record, Entry):
            return self._entry(record)
        if isinstance(record, QuestionRecord):
            who = escape(record.author_name) if record.author_name else f"<i>{escape(label(lang, 'anonymous'))}</i>"
            marks = [state_name(lang, record.state), f"{label(lang, 'votes')}: {record.votes}"]
            if record.pinned:
                marks.append(label(lang, "pinned"))
            out = (f'<article class="question"><header><b>{who}</b> · {self._time(record.at_ms)} · '
                   f'{escape(" · ".join(marks))}</header><div class="body">{_paragraphs(record.text)}</div>')
            if record.answer or record.answered_by_name:
                answer = record.answer_html if record.answer_html else _paragraphs(record.answer)
                out += (f'<div class="answer"><b>{escape(label(lang, "answer"))}</b>'
                        f' ({escape(record.answered_by_name or "")})<div class="body">{answer}</div></div>')
            return out + "</article>\n"
        assert isinstance(record, PollRecord)
        question = (record.question_zh or record.question_en) if lang == "zh" else (record.question_en or record.question_zh)
        items = ""
        for index, (en, zh) in enumerate(record.options):
            option = (zh or en) if lang == "zh" else (en or zh)
            count = "" if record.counts is None else f": {record.counts[index]}"
            items += f"<li>{escape(option)}{count}</li>"
        result = (label(lang, "results_hidden") if record.counts is None
                  else f"{label(lang, 'answers')}: {record.answers}")
        extra = f" · {label(lang, 'multiple')}" if record.multiple else ""
        return (f'<article class="poll"><header><b>{escape(question)}</b> · {self._time(record.at_ms)} · '
                f'{escape(state_name(lang, record.state) + extra)}</header><ul>{items}</ul>'
                f"<p>{escape(result)}</p></article>\n")

    def _entry(self, entry: Entry) -> str:
        assert self._header is not None
        lang = self._header.lang
        reply = " reply" if entry.thread_id is not None else ""
        if entry.kind != "message":
            out = (f'<p class="event{reply}">{escape(event_text(lang, entry))} · {escape(entry.author_name)}'
                   f" · {self._time(entry.at_ms)}</p>")
            if entry.kind == "topic" and (entry.html or entry.text):
                out += f'<div class="body topic">{entry.html if entry.html else _paragraphs(entry.text)}</div>'
            return out + "\n"
        edited = (f' <span class="edited">{escape(label(lang, "edited"))}</span>'
                  if entry.edited_at_ms is not None and not entry.deleted else "")
        if entry.deleted:
            body = f'<p class="deleted">{escape(label(lang, "deleted"))}</p>'
        else:
            # The stored html is what the server rendered and sanitised at send (nh3).
            body = entry.html if entry.html else _paragraphs(entry.text)
        reactions = "".join(f'<span class="reaction">{escape(r.emoji)} {escape(", ".join(r.names))}</span> '
                            for r in entry.reactions)
        return (f'<article class="message{reply}" id="m-{escape(entry.entry_id)}"><header>'
                f"<b>{escape(entry.author_name)}</b> · {self._time(entry.at_ms)}{edited}</header>"
                f'<div class="body">{body}</div>'
                + (f'<div class="reactions">{reactions}</div>' if entry.reactions else "")
                + "</article>\n")


def _paragraphs(text: str) -> str:
    """Plain text, escaped, its lines kept."""
    return "<p>" + "<br>".join(escape(line) for line in text.splitlines()) + "</p>"


def writer() -> HtmlWriter:
    return HtmlWriter()
