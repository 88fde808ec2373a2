"""PDF transcripts (reportlab, drawn page by page into a temporary file the writer owns).

A PDF cannot be streamed as it is made (its cross-reference table and page count come last), so
this writer follows the Writer protocol with every method returning b"" and draws into a file;
the service streams the file once it is complete.

Contract for the service (chat/export/service.py):

    w = pdf.writer(font=fonts.find_font(settings.pdf_font),
                   max_pages=settings.export_pdf_max_pages)
    # (new_writer("pdf") works too: font from $ECOLINK_PDF_FONT or the system, 3000 pages)
    try:
        # each call in a worker thread (asyncio.to_thread), one store page of records at a time;
        # one thread at a time (the calls may hop threads, never overlap):
        await to_thread(w.start, header)             # -> b""
        await to_thread(w.section, "chat")           # -> b""   (each section, in order)
        await to_thread(w.records, batch)            # -> b""   (each batch)
        await to_thread(w.end, "")                   # -> b""   draws the digest, saves the file
        done = w.finish()    # PdfFile(path, size, sha256 of the file, pages, text_sha256)
    except PdfPageLimit:     # the document passed max_pages: nothing sent yet
        w.discard(); raise ExportTooLarge(...)       # 413 export_too_large
    except BaseException:
        w.discard(); raise
    # respond: Content-Type w.media_type, X-Content-SHA256 done.sha256, Content-Length
    # done.size; stream done.path in chunks, then w.discard() (or unlink done.path) when the
    # stream ends or is abandoned.

- The temporary file is made at start() in `directory` (default: the system temp folder).
- PdfPageLimit is raised by start/section/records/end as soon as the document would need
  more than `max_pages` pages; nothing has been sent then, so the service answers 413
  export_too_large (and calls discard()). `pdf_limits.pdf_pages_estimate` lets it refuse
  before reading the store.
- fonts.FontError (ECOLINK_PDF_FONT names a missing or non-TrueType file) is raised by
  writer() when the font is looked up there.
- The digest: the last page states the SHA-256 of the transcript's text as drawn: every drawn
  line of the transcript (header block, section titles, day lines, messages, events, questions,
  polls), in order, each as its UTF-8 bytes followed by b"\\n". Not included: the running
  page header, the page numbers and the digest line itself. The service's own sha256 of the
  streamed bytes (what `end` gets in text formats) means nothing here, so `end` ignores it;
  the file's own hash is PdfFile.sha256 (the X-Content-SHA256 response header).
- Words come from chat/export/labels.py like every format's; only the page numbers and the
  digest sentence are the PDF's own (_PDF_LABELS). Message bodies are the stored sanitized html
  reduced to text (html_text), else the plain body.

Memory: each page's content stream is compressed when the page ends; reportlab keeps the
finished pages (compressed) until the file is saved, so memory grows with the page count (about
7 KB a page, bounded by max_pages), never with Python objects per message.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.pdfdoc import PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from chat.export import fonts
from chat.export.labels import event_text, header_fields, label, local_time, range_text, state_name, title
from chat.export.formats.pdf_limits import PDF_MAX_PAGES
from chat.export.records import Entry, Header, Lang, PollRecord, QuestionRecord, Record, Section

MEDIA_TYPE = "application/pdf"
DEFAULT_MAX_PAGES = PDF_MAX_PAGES

PAGE_W, PAGE_H = A4
MARGIN_X = 50.0
BODY_TOP = PAGE_H - 72.0
BODY_BOTTOM = 58.0
HEADER_Y = PAGE_H - 40.0
FOOTER_Y = 32.0
SIZE = 9.5
LEADING = 13.0
SMALL = 8.0
INDENT = 12.0  # a message's body under its author line
REPLY_INDENT = 20.0  # a topic's replies under the topic
BLACK = (0.0, 0.0, 0.0)
GRAY = (0.38, 0.38, 0.38)
GREEN = (0.12, 0.40, 0.22)
_TOTAL_FORM = "pages_total"

# Words only the PDF draws; everything else comes from chat/export/labels.py (shared by
# every format).
_PDF_LABELS: dict[str, dict[Lang, str]] = {
    "page": {"en": "Page {n} of ", "zh": "第 {n} 页，共 "},
    "page_total": {"en": "{m}", "zh": "{m} 页"},
    "digest": {"en": "SHA-256 of this transcript's text as drawn (UTF-8, one line each):",
               "zh": "本记录所绘文字的 SHA-256（UTF-8，每行一条）："},
}


def _pdf_label(lang: Lang, key: str, **values: object) -> str:
    return _PDF_LABELS[key][lang].format(**values)


class PdfPageLimit(Exception):
    """The document would need more than the allowed pages (the service answers 413)."""

    def __init__(self, max_pages: int) -> None:
        super().__init__(f"the PDF would have more than {max_pages} pages")
        self.max_pages = max_pages


@dataclass(frozen=True, slots=True)
class PdfFile:
    """A finished PDF: where it is, its size and SHA-256 (hex), pages, and the text digest
    its last page states."""

    path: Path
    size: int
    sha256: str
    pages: int
    text_sha256: str


class _HtmlText(HTMLParser):
    """The stored sanitized message html as plain lines: blocks and <br> break lines, list
    items get a bullet, code blocks keep their lines."""

    BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "h1", "h2", "h3", "h4",
                        "h5", "h6", "table", "tr", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in self.BLOCKS:
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n• ")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))


def html_text(html: str) -> str:
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# A token: a run of spaces, a run of characters that break only at spaces, or one character
# that may break anywhere (CJK ideographs, kana, hangul, full-width forms and punctuation).
_CJK = "\u2e80-\u9fff\ua000-\ua4cf\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
_TOKENS = re.compile(rf"\s+|[^\s{_CJK}]+|.", re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")


class PdfWriter:
    """One PDF export; see the module docstring for how the service drives it."""

    media_type = MEDIA_TYPE
    extension = "pdf"

    def __init__(self, font: fonts.PdfFont, *, max_pages: int = DEFAULT_MAX_PAGES,
                 directory: str | Path | None = None, keep_lines: bool = False) -> None:
        self._font = font
        self._max_pages = max_pages
        self._directory = directory
        self._path: Path | None = None
        self._canvas: Canvas | None = None
        self._header: Header | None = None
        self._zone: ZoneInfo | None = None
        self._lang: Lang = "en"
        self._y = BODY_TOP
        self._page = 0
        self._digest = hashlib.sha256()
        self._text_sha256: str | None = None
        self._day = ""
        self._finished: PdfFile | None = None
        self._face_name, self._glyphs = _register(font)
        self._widths: dict[str, float] = {}
        # For tests: every drawn transcript line, in order (what the digest covers).
        self.lines: list[str] | None = [] if keep_lines else None

    # The Writer protocol (everything goes to the file; see the module docstring).

    def start(self, header: Header) -> bytes:
        self._header = header
        self._zone = ZoneInfo(header.time_zone)
        self._lang = header.lang
        fd, name = tempfile.mkstemp(prefix="ecolink-export-", suffix=".pdf", dir=self._directory)
        os.close(fd)
        self._path = Path(name)
        title = self._title()
        canvas = Canvas(name, pagesize=A4, pageCompression=1, invariant=1)
        canvas.setTitle(title)
        canvas.setAuthor(header.made_by_name or label(self._lang, "operator"))
        canvas.setSubject(self._range())
        canvas.setCreator("EcoLink chat")
        self._canvas = canvas
        self._begin_page()
        self._header_block(header)
        return b""

    def section(self, name: Section) -> bytes:
        header = self._need_header()
        if header.scope == "webinar" or name != "chat":
            self._gap(LEADING * 0.6)
            self._paragraph(label(self._lang, name), size=12, leading=17, color=GREEN)
            self._rule()
        self._day = ""
        return b""

    def records(self, batch: Sequence[Record]) -> bytes:
        self._need_header()
        for record in batch:
            if isinstance(record, Entry):
                self._entry(record)
            elif isinstance(record, QuestionRecord):
                self._question(record)
            elif isinstance(record, PollRecord):
                self._poll(record)
        return b""

    def end(self, sha256_hex: str = "") -> bytes:
        """Draws the digest and saves the file. `sha256_hex` (the service's digest of the
        streamed bytes, all empty for PDF) is ignored."""
        canvas = self._need_canvas()
        self._text_sha256 = self._digest.hexdigest()
        digest_label = _pdf_label(self._lang, "digest")
        needed = LEADING * 3
        if self._y - needed < BODY_BOTTOM:
            self._next_page()
        self._gap(LEADING)
        self._rule()
        for line in (*self._wrap(digest_label, self._width(0), SIZE), self._text_sha256):
            self._draw(line, x=MARGIN_X, size=SIZE, color=BLACK, hashed=False)
        self._show_page()
        canvas.beginForm(_TOTAL_FORM)
        canvas.setFont(self._face_name, SMALL)
        canvas.setFillColorRGB(*GRAY)
        canvas.drawString(0, 0, _pdf_label(self._lang, "page_total", m=self._page))
        canvas.endForm()
        canvas.save()
        path = self._need_path()
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 16), b""):
                digest.update(chunk)
        self._finished = PdfFile(path, path.stat().st_size, digest.hexdigest(), self._page,
                                 self._text_sha256)
        self._canvas = None
        return b""

    # After end().

    def finish(self) -> PdfFile:
        """The finished file (after end()); the service streams `path` and then discard()s."""
        if self._finished is None:
            raise RuntimeError("finish() before end()")
        return self._finished

    @property
    def path(self) -> Path | None:
        """The temporary file (None before start or after discard)."""
        return self._path

    @property
    def font_name(self) -> str:
        """The font's name in reportlab (to measure text with pdfmetrics.stringWidth)."""
        return self._face_name

    @property
    def text_sha256(self) -> str:
        """The SHA-256 the last page states (after end())."""
        if self._text_sha256 is None:
            raise RuntimeError("text_sha256 before end()")
        return self._text_sha256

    def discard(self) -> None:
        """Deletes the temporary file; idempotent."""
        self._canvas = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None

    # Records.

    def _entry(self, entry: Entry) -> None:
        lang = self._lang
        indent = REPLY_INDENT if entry.thread_id else 0.0
        self._day_line(entry.at_ms)
        time = self._local(entry.at_ms, "%H:%M")
        if entry.kind == "message":
            head = f"{entry.author_name} · {time}"
            if entry.edited_at_ms is not None and not entry.deleted:
                head += " " + label(lang, "edited")
            self._keep(LEADING * 2)
            self._paragraph(head, indent=indent, color=GREEN)
            if entry.deleted:
                self._paragraph(label(lang, "deleted"), indent=indent + INDENT, color=GRAY)
            else:
                body = html_text(entry.html) if entry.html else entry.text
                self._paragraph(body, indent=indent + INDENT)
            for reaction in entry.reactions:
                self._paragraph(f"{reaction.emoji} {', '.join(reaction.names)}",
                                indent=indent + INDENT, size=SMALL, leading=11, color=GRAY)
            self._gap(3)
            return
        if entry.kind == "topic":
            topic = entry.data.get("topic")
            summary = str(topic.get("summary") or "") if isinstance(topic, dict) else ""
            self._keep(LEADING * 2)
            self._paragraph(f"{entry.author_name} · {time}", indent=indent, color=GREEN)
            self._paragraph(event_text(lang, entry), indent=indent + INDENT)
            for text, color in ((summary, GRAY), (entry.text, BLACK)):
                if text:
                    self._paragraph(text, indent=indent + INDENT, color=color)
            self._gap(3)
            return
        event = event_text(lang, entry)
        if entry.kind != "membership":
            event = f"{entry.author_name}: {event}"
        self._paragraph(f"— {time} {event}", indent=indent, size=SMALL, leading=11, color=GRAY)
        self._gap(3)

    def _question(self, question: QuestionRecord) -> None:
        lang = self._lang
        who = question.author_name or label(lang, "anonymous")
        facts = [self._time(question.at_ms), state_name(lang, question.state),
                 f"{label(lang, 'votes')}: {question.votes}"]
        if question.pinned:
            facts.append(label(lang, "pinned"))
        self._keep(LEADING * 2)
        self._paragraph(f"{who} · " + " · ".join(facts), color=GREEN)
        self._paragraph(question.text, indent=INDENT)
        answer = html_text(question.answer_html) if question.answer_html else question.answer
        if answer or question.answered_by_name:
            by = question.answered_by_name
            self._paragraph(f"{label(lang, 'answer')} ({by})" if by else label(lang, "answer"),
                            indent=INDENT, color=GREEN)
            if answer:
                self._paragraph(answer, indent=INDENT * 2)
        self._gap(4)

    def _poll(self, poll: PollRecord) -> None:
        lang = self._lang
        if lang == "zh":
            question = poll.question_zh or poll.question_en
        else:
            question = poll.question_en or poll.question_zh
        facts = [self._time(poll.at_ms), state_name(lang, poll.state)]
        if poll.multiple:
            facts.append(label(lang, "multiple"))
        if poll.counts is not None and poll.answers is not None:
            facts.append(f"{label(lang, 'answers')}: {poll.answers}")
        self._keep(LEADING * 2)
        self._paragraph(question, color=GREEN)
        self._paragraph(" · ".join(facts), indent=INDENT, size=SMALL, leading=11, color=GRAY)
        total = sum(poll.counts) if poll.counts else 0
        for number, (option_en, option_zh) in enumerate(poll.options):
            option = (option_zh or option_en) if lang == "zh" else (option_en or option_zh)
            line = f"{number + 1}. {option}"
            if poll.counts is not None and number < len(poll.counts):
                count = poll.counts[number]
                share = round(100 * count / total) if total else 0
                line += f" — {count} ({share}%)"
            self._paragraph(line, indent=INDENT)
        if poll.counts is None:
            self._paragraph(label(lang, "results_hidden"), indent=INDENT, size=SMALL, leading=11,
                            color=GRAY)
        self._gap(4)

    # The header.

    def _title(self) -> str:
        return title(self._need_header())

    def _range(self) -> str:
        return range_text(self._need_header())

    def _header_block(self, header: Header) -> None:
        first, second = (header.title_zh, header.title_en) if self._lang == "zh" else (header.title_en, header.title_zh)
        self._paragraph(first or second, size=15, leading=20)
        if first and second and second != first:
            self._paragraph(second, size=11, leading=15, color=GRAY)
        self._gap(4)
        for name, value in header_fields(header):
            self._paragraph(f"{name}: {value}")
        self._rule()

    # Drawing.

    def _need_header(self) -> Header:
        if self._header is None:
            raise RuntimeError("start() first")
        return self._header

    def _need_canvas(self) -> Canvas:
        if self._canvas is None:
            raise RuntimeError("start() first, and not after end()")
        return self._canvas

    def _need_path(self) -> Path:
        if self._path is None:
            raise RuntimeError("discarded")
        return self._path

    def _time(self, at_ms: int) -> str:
        return local_time(at_ms, self._need_header().time_zone)

    def _local(self, at_ms: int, fmt: str) -> str:
        return datetime.fromtimestamp(at_ms / 1000, self._zone).strftime(fmt)

    def _day_line(self, at_ms: int) -> None:
        day = self._local(at_ms, "%Y-%m-%d")
        if day != self._day:
            self._day = day
            self._keep(LEADING * 3)
            self._paragraph(f"{day} ({self._local(at_ms, '%a')})" if self._lang == "en" else day,
                            size=SMALL, leading=14, color=GRAY)

    def _begin_page(self) -> None:
        if self._page >= self._max_pages:
            raise PdfPageLimit(self._max_pages)
        canvas = self._need_canvas()
        self._page += 1
        self._y = BODY_TOP
        # The running header: title and range; page numbers in the footer ("of M" is a form
        # drawn at the end, once the total is known).
        canvas.setFont(self._face_name, SMALL)
        canvas.setFillColorRGB(*GRAY)
        running = self._fit(f"{self._title()} · {self._range()}", PAGE_W - 2 * MARGIN_X, SMALL)
        canvas.drawString(MARGIN_X, HEADER_Y, running)
        canvas.setStrokeColorRGB(*GRAY)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, HEADER_Y - 6, PAGE_W - MARGIN_X, HEADER_Y - 6)
        prefix = _pdf_label(self._lang, "page", n=self._page)
        canvas.drawString(MARGIN_X, FOOTER_Y, prefix)
        canvas.saveState()
        canvas.translate(MARGIN_X + self._text_width(prefix, SMALL), FOOTER_Y)
        canvas.doForm(_TOTAL_FORM)
        canvas.restoreState()

    def _next_page(self) -> None:
        self._show_page()
        self._begin_page()

    def _show_page(self) -> None:
        """Ends the page and compresses its content stream now: reportlab would keep every
        page's drawing as text until the file is saved."""
        canvas = self._need_canvas()
        canvas.showPage()
        page: Any = cast(Any, canvas)._doc.Pages.pages[-1]
        stream = PDFStream(content=zlib.compress(page.stream.encode("utf-8")), filters=[])
        stream.dictionary["Filter"] = PDFName("FlateDecode")
        page.Contents = stream
        page.stream = None

    def _keep(self, height: float) -> None:
        """Starts a new page unless `height` fits (an author line is not left alone at the bottom)."""
        if self._y - height < BODY_BOTTOM and self._y < BODY_TOP:
            self._next_page()

    def _gap(self, height: float) -> None:
        self._y -= height

    def _rule(self) -> None:
        canvas = self._need_canvas()
        if self._y - 8 < BODY_BOTTOM:
            self._next_page()
            return
        canvas.setStrokeColorRGB(*GRAY)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, self._y + 4, PAGE_W - MARGIN_X, self._y + 4)
        self._y -= 8

    def _paragraph(self, text: str, *, indent: float = 0.0, size: float = SIZE,
                   leading: float = LEADING, color: tuple[float, float, float] = BLACK) -> None:
        for line in self._wrap(self._drawable(text), self._width(indent), size):
            self._draw(line, x=MARGIN_X + indent, size=size, leading=leading, color=color)

    def _draw(self, line: str, *, x: float, size: float, color: tuple[float, float, float],
              leading: float = LEADING, hashed: bool = True) -> None:
        """Draws one line at the current baseline (on a new page if this one is full)."""
        canvas = self._need_canvas()
        if self._y < BODY_BOTTOM:
            self._next_page()
        canvas.setFont(self._face_name, size)
        canvas.setFillColorRGB(*color)
        canvas.drawString(x, self._y, line)
        self._y -= leading
        if hashed:
            self._digest.update(line.encode("utf-8") + b"\n")
            if self.lines is not None:
                self.lines.append(line)

    @staticmethod
    def _width(indent: float) -> float:
        return PAGE_W - 2 * MARGIN_X - indent

    def _drawable(self, text: str) -> str:
        """Text the font can draw: no control characters, tabs as spaces, and characters the
        embedded font has no glyph for (emoji) as their Unicode name in brackets."""
        text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\t", "    "))
        if self._glyphs is None:
            return text
        glyphs = self._glyphs
        out: list[str] = []
        for char in text:
            if char in "\n " or ord(char) in glyphs:
                out.append(char)
            elif unicodedata.category(char) in ("Mn", "Me", "Cf") or char == "\ufe0f":
                continue  # variation selectors, joiners: nothing to draw
            else:
                out.append(f"[{unicodedata.name(char, f'U+{ord(char):04X}').lower()}]")
        return "".join(out)

    def _char_width(self, char: str) -> float:
        width = self._widths.get(char)
        if width is None:
            width = self._widths[char] = pdfmetrics.stringWidth(char, self._face_name, 1.0)
        return width

    def _text_width(self, text: str, size: float) -> float:
        return sum(self._char_width(char) for char in text) * size

    def _fit(self, text: str, width: float, size: float) -> str:
        """`text` cut with an ellipsis to fit `width`."""
        text = self._drawable(text.replace("\n", " "))
        if self._text_width(text, size) <= width:
            return text
        room = width - self._text_width("…", size)
        used = 0.0
        for index, char in enumerate(text):
            used += self._char_width(char) * size
            if used > room:
                return text[:index] + "…"
        return text

    def _wrap(self, text: str, width: float, size: float) -> list[str]:
        """Lines no wider than `width`: breaks at spaces, anywhere between CJK characters, and
        inside a word (a URL) longer than a line."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            line = ""
            used = 0.0
            space = self._char_width(" ") * size
            for token in _TOKENS.findall(paragraph):
                if token.isspace():
                    if line:
                        line += " "
                        used += space
                    continue
                token_width = self._text_width(token, size)
                if used + token_width <= width:
                    line += token
                    used += token_width
                    continue
                if line.strip() and token_width <= width:
                    lines.append(line.rstrip())
                    line, used = token, token_width
                    continue
                for char in token:  # longer than what is left: break it by character
                    char_width = self._char_width(char) * size
                    if used + char_width > width and line.strip():
                        lines.append(line.rstrip())
                        line, used = "", 0.0
                    line += char
                    used += char_width
            lines.append(line.rstrip())
        while len(lines) > 1 and not lines[-1]:
            lines.pop()
        return lines



_registered: dict[tuple[str | None, int], tuple[str, frozenset[int] | None]] = {}
_registering = threading.Lock()


def _register(font: fonts.PdfFont) -> tuple[str, frozenset[int] | None]:
    """Registers the font with reportlab once per process: its name there, and the code points
    it has glyphs for (None for the CID fallback)."""
    key = (str(font.path) if font.path else None, font.subfont_index)
    with _registering:
        known = _registered.get(key)
        if known is None:
            known = _registered[key] = _load(font)
        return known


def _load(font: fonts.PdfFont) -> tuple[str, frozenset[int] | None]:
    if font.path is None:
        fonts.warn_fallback()
        pdfmetrics.registerFont(UnicodeCIDFont(fonts.FALLBACK_CID_FONT))
        return fonts.FALLBACK_CID_FONT, None
    name = f"EcoLinkCJK{len(_registered)}"
    ttf = TTFont(name, str(font.path), subfontIndex=font.subfont_index)
    pdfmetrics.registerFont(ttf)
    return name, frozenset(ttf.face.charToGlyph)


def writer(*, font: fonts.PdfFont | None = None, max_pages: int = DEFAULT_MAX_PAGES,
           directory: str | Path | None = None, keep_lines: bool = False) -> PdfWriter:
    """A fresh PDF writer. Without `font`, fonts.find_font() looks it up ($ECOLINK_PDF_FONT,
    then the system's); raises fonts.FontError for a configured font that is missing."""
    return PdfWriter(font or fonts.find_font(), max_pages=max_pages, directory=directory,
                     keep_lines=keep_lines)
