"""chat.export.formats.pdf: PDFs built from records directly, read back with pypdf. Chinese and
English text, the running header, page numbers, markers in both languages, wrapping of long words
and Chinese paragraphs, the digest of the drawn text on the last page, the page limit and the
estimate, and the font lookup (chat.export.fonts) with its fallback."""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics
from structlog.testing import capture_logs

from chat.export import fonts
from chat.export.formats import new_writer
from chat.export.formats import pdf as pdf_format
from chat.export.formats.pdf import MARGIN_X, PAGE_W, SIZE, PdfPageLimit, PdfWriter, html_text
from chat.export.formats.pdf_limits import pdf_pages_estimate
from chat.export.records import Entry, Header, Lang, PollRecord, QuestionRecord, Reaction, Record

WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # scripts/test installs it
T0 = 1_793_000_000_000  # 2026-10-26 UTC
ZH_TEXT = "我们讨论了绿色建筑改造的资金安排，以及屋顶光伏和雨水收集。"
EN_TEXT = "Retrofit budget for the Zhuhai pilot agreed in principle."


def header(lang: Lang = "en", scope: str = "sector") -> Header:
    return Header(scope=scope, room_id="sector-green-buildings",  # type: ignore[arg-type]
                  title_en="Green buildings", title_zh="绿色建筑", from_ms=T0, to_ms=T0 + 86_400_000 * 3,
                  time_zone="Asia/Shanghai", lang=lang, made_at_ms=T0 + 86_400_000 * 4,
                  made_by_id=1, made_by_name="Alice Martin", participants=("Alice Martin", "王芳"),
                  format="pdf")


def message(seq: int, text: str, **fields: object) -> Entry:
    values: dict[str, object] = {
        "room_id": "sector-green-buildings", "seq": seq, "entry_id": f"m{seq}", "at_ms": T0 + seq * 60_000,
        "kind": "message", "author_id": 2, "author_name": "王芳" if seq % 2 else "Bob Smith",
        "author_role": "member", "text": text}
    values.update(fields)
    return Entry(**values)  # type: ignore[arg-type]


def build(records: Sequence[Record], *, lang: Lang = "en", scope: str = "sector",
          tmp_path: Path, max_pages: int = 3000) -> tuple[PdfWriter, PdfReader]:
    writer = pdf_format.writer(font=fonts.PdfFont(WQY), max_pages=max_pages, directory=tmp_path,
                               keep_lines=True)
    assert writer.start(header(lang, scope)) == b""
    assert writer.section("chat") == b""
    for start in range(0, len(records), 500):
        assert writer.records(records[start:start + 500]) == b""
    assert writer.end("") == b""
    done = writer.finish()
    assert done.path.read_bytes()[:5] == b"%PDF-"
    assert done.sha256 == hashlib.sha256(done.path.read_bytes()).hexdigest()
    assert done.size == done.path.stat().st_size
    return writer, PdfReader(done.path)


def texts(reader: PdfReader) -> list[str]:
    return [page.extract_text() for page in reader.pages]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def many(count: int) -> Iterator[Entry]:
    for seq in range(1, count + 1):
        yield message(seq, ZH_TEXT * 2 if seq % 2 else f"{EN_TEXT} Note {seq}.")


@pytest.fixture(autouse=True)
def _font_present() -> None:
    assert WQY.is_file(), "fonts-wqy-microhei is missing: run the tests through scripts/test"


def test_chinese_and_english_messages_header_and_page_numbers(tmp_path: Path) -> None:
    records = [message(1, EN_TEXT), message(2, "绿色建筑改造：" + ZH_TEXT), *many(150)]
    writer, reader = build(records, tmp_path=tmp_path)
    pages = texts(reader)
    total = len(pages)
    assert total >= 3
    whole = "\n".join(pages)
    assert EN_TEXT in whole
    assert "绿色建筑改造" in whole and ZH_TEXT in squeezed(whole)
    for number, text in enumerate(pages, start=1):
        # The running header (title and range, in the header's zone) and "Page N of M".
        assert "Green buildings / 绿色建筑 · 2026-10-26 15:33 – 2026-10-29 15:33" in text, number
        assert re.search(rf"Page {number} of\s*{total}\b", text), number
    first = pages[0]
    for expected in ("Scope: sector room", "Room: Green buildings / 绿色建筑", "Time zone: Asia/Shanghai",
                     "Participants: Alice Martin, 王芳", "Made by: Alice Martin", "Format: pdf",
                     "Range: 2026-10-26 15:33 – 2026-10-29 15:33", "Made at: 2026-10-30 15:33"):
        assert expected in first, expected
    assert writer.finish().pages == total


def test_chinese_labels_and_page_numbers(tmp_path: Path) -> None:
    _, reader = build([*many(120)], lang="zh", tmp_path=tmp_path)
    pages = texts(reader)
    assert "范围: 行业房间" in pages[0] and "时区: Asia/Shanghai" in pages[0]
    assert pages[0].index("绿色建筑") < pages[0].index("Green buildings")  # the requester's language first
    for number, text in enumerate(pages, start=1):
        assert re.search(rf"第 {number} 页，共\s*{len(pages)} 页", text)
        assert "绿色建筑 / Green buildings · 2026-10-26 15:33 – 2026-10-29 15:33" in text


@pytest.mark.parametrize(("lang", "edited", "deleted"), [("en", "(edited)", "(message deleted)"),
                                                         ("zh", "(已编辑)", "（消息已删除）")])
def test_edited_and_deleted_markers(tmp_path: Path, lang: Lang, edited: str, deleted: str) -> None:
    records = [message(1, "Final wording of the plan", edited_at_ms=T0 + 90_000),
               message(2, "", deleted=True),
               message(3, "Untouched")]
    writer, reader = build(records, lang=lang, tmp_path=tmp_path)
    text = "\n".join(texts(reader))
    assert edited in text and deleted in text
    assert text.count(edited) == 1 and text.count(deleted) == 1
    assert writer.lines is not None
    heads = [line for line in writer.lines if line.startswith(("王芳 · ", "Bob Smith · "))]
    assert len(heads) == 3 and heads[0].endswith(edited)
    assert not any(edited in line for line in heads[1:])  # the edited message only
    assert "Final wording of the plan" in text


def test_last_page_states_the_sha256_of_the_drawn_text(tmp_path: Path) -> None:
    writer, reader = build([*many(80), message(999, "last words")], tmp_path=tmp_path)
    assert writer.lines is not None
    expected = hashlib.sha256("".join(line + "\n" for line in writer.lines).encode()).hexdigest()
    assert writer.text_sha256 == expected == writer.finish().text_sha256
    pages = texts(reader)
    assert expected in pages[-1]
    assert "SHA-256 of this transcript's text as drawn" in pages[-1]
    assert not any(expected in page for page in pages[:-1])
    # The digest covers what is drawn: the header block, the messages, in order.
    assert writer.lines[0] == "Green buildings" and "last words" in writer.lines


def test_reactions_events_and_topic_replies_indented(tmp_path: Path) -> None:
    records: list[Record] = [
        message(1, "Shall we meet on site?", reactions=(Reaction("👍", ("Alice Martin", "王芳")),)),
        Entry(room_id="r", seq=2, entry_id="m2", at_ms=T0 + 120_000, kind="topic", author_id=1,
              author_name="Alice Martin", author_role="member",
              data={"topic": {"title": "Rainwater harvesting", "summary": "Tanks and permits"}}),
        message(3, "The reply under the topic", thread_id="t-1"),
        Entry(room_id="r", seq=4, entry_id="m4", at_ms=T0 + 240_000, kind="status", author_id=1,
              author_name="Alice Martin", author_role="expert", data={"status": "answered"}),
        Entry(room_id="r", seq=5, entry_id="m5", at_ms=T0 + 300_000, kind="membership", author_id=1,
              author_name="Alice Martin", author_role="member",
              data={"change": "added", "user": {"id": 3, "name": "Carol"}, "by": {"id": 1, "name": "Alice Martin"}}),
    ]
    writer, reader = build(records, tmp_path=tmp_path)
    text = texts(reader)[0]
    for expected in ("[thumbs up sign] Alice Martin, 王芳", "topic: Rainwater harvesting", "Tanks and permits",
                     "Alice Martin: status changed to answered", "Alice Martin added Carol"):
        assert expected in text, expected
    lefts: dict[str, float] = {}

    def visit(chunk: str, cm: list[float], tm: list[float], *_: object) -> None:
        for key in ("Shall we meet", "The reply under", "topic: Rainwater"):
            if chunk.startswith(key):
                lefts[key] = tm[4] * cm[0] + cm[4]

    reader.pages[0].extract_text(visitor_text=visit)
    assert lefts["The reply under"] > lefts["Shall we meet"]
    assert lefts["topic: Rainwater"] == lefts["Shall we meet"]  # both a message body's indent


def test_webinar_sections_questions_and_polls(tmp_path: Path) -> None:
    writer = pdf_format.writer(font=fonts.PdfFont(WQY), directory=tmp_path)
    writer.start(header("en", "webinar"))
    writer.section("chat")
    writer.records([message(1, "Welcome everyone")])
    writer.section("questions")
    writer.records([QuestionRecord("q1", T0, "王芳", "answered", True, 7, "How is the grid connected?",
                                   "Through the district substation.", "", "Alice Martin"),
                    QuestionRecord("q2", T0, None, "open", False, 2, "Costs per square metre?", "", "", None)])
    writer.section("polls")
    writer.records([PollRecord("p1", T0, "Which pilot first?", "先做哪个试点？", (("Zhuhai", "珠海"), ("Lyon", "里昂")),
                               False, "closed", (3, 1), 4),
                    PollRecord("p2", T0, "Hidden poll", "", (("Yes", ""), ("No", "")), False, "open", None, None)])
    writer.end("")
    text = "\n".join(texts(PdfReader(writer.finish().path)))
    for expected in ("Chat", "Questions", "Polls", "王芳 · ", "Votes: 7", "answered", "pinned",
                     "How is the grid connected?", "Answer (Alice Martin)", "Through the district substation.",
                     "Anonymous · ", "Which pilot first?", "1. Zhuhai — 3 (75%)", "2. Lyon — 1 (25%)",
                     "Answers: 4", "results not public"):
        assert expected in text, expected
    writer.discard()


def test_long_words_urls_and_chinese_paragraphs_wrap_within_the_page(tmp_path: Path) -> None:
    url = "https://example.org/" + "a1b2c3d4" * 60
    paragraph = "绿色建筑改造需要城市规划与能源管理的协同推进" * 30
    writer, reader = build([message(1, f"See {url} now"), message(2, paragraph)], tmp_path=tmp_path)
    whole = squeezed("\n".join(texts(reader)))
    assert url in whole and paragraph in whole  # all of it there, nothing cut off
    assert writer.lines is not None
    font = writer.font_name
    wrapped = [line for line in writer.lines if "a1b2" in line or "协同" in line]
    assert len(wrapped) >= 8
    for line in wrapped:
        assert pdfmetrics.stringWidth(line, font, SIZE) <= PAGE_W - 2 * MARGIN_X


def test_html_bodies_become_text() -> None:
    html = ("<p>Hello <strong>world</strong> &amp; <a href=\"https://e.org\">link</a></p>"
            "<ul><li>one</li><li>two</li></ul><pre><code>a  b\nc</code></pre>")
    assert html_text(html) == "Hello world & link\n\n• one\n• two\n\na  b\nc"


def test_two_thousand_messages_and_the_estimate(tmp_path: Path) -> None:
    records = list(many(2000))
    writer, reader = build(records, tmp_path=tmp_path)
    pages = len(reader.pages)
    assert 60 <= pages <= 300
    assert pdf_pages_estimate(len(records)) >= pages
    assert pdf_pages_estimate(0) == 1


def test_exports_in_parallel_threads_each_get_their_own_text(tmp_path: Path) -> None:
    """The service builds PDFs in worker threads, several at once (ECOLINK_EXPORT_CONCURRENCY)."""

    def one(number: int) -> tuple[str, str]:
        records = [message(seq, f"{ZH_TEXT} 第{number}号导出 export {number}") for seq in range(1, 120)]
        writer, reader = build(records, tmp_path=tmp_path / str(number))
        return writer.text_sha256, "\n".join(texts(reader))

    for number in range(4):
        (tmp_path / str(number)).mkdir()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert len({digest for digest, _ in results}) == 4
    for number, (digest, text) in enumerate(results):
        assert f"export {number}" in text and f"第{number}号导出" in squeezed(text) and digest in text
        assert not any(f"export {other}" in text for other in range(4) if other != number)


def test_page_limit_stops_drawing_and_discard_removes_the_file(tmp_path: Path) -> None:
    writer = pdf_format.writer(font=fonts.PdfFont(WQY), max_pages=2, directory=tmp_path)
    writer.start(header())
    path = writer.path
    assert path is not None and path.exists()
    with pytest.raises(PdfPageLimit):
        writer.records(list(many(300)))
    writer.discard()
    writer.discard()
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_new_writer_looks_the_font_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECOLINK_PDF_FONT", str(WQY))
    writer = new_writer("pdf")
    assert writer.media_type == "application/pdf" and writer.extension == "pdf"
    assert fonts.find_font() == fonts.PdfFont(WQY)


def test_a_configured_font_that_is_missing_or_not_truetype_is_an_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ECOLINK_PDF_FONT", str(tmp_path / "missing.ttf"))
    with pytest.raises(fonts.FontError, match="ECOLINK_PDF_FONT: no such font file"):
        fonts.find_font()
    with pytest.raises(fonts.FontError):
        pdf_format.writer()
    text = tmp_path / "notes.ttf"
    text.write_text("not a font")
    with pytest.raises(fonts.FontError, match="not a TrueType"):
        fonts.find_font(text)


def test_without_any_cjk_font_the_cid_fallback_is_used_with_one_warning(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ECOLINK_PDF_FONT", raising=False)
    assert fonts.find_font(search=(str(tmp_path / "none.ttc"),)) == fonts.PdfFont(None)
    assert fonts.find_font(search=(str(WQY),)) == fonts.PdfFont(WQY)
    monkeypatch.setattr(fonts, "_warned", False)
    monkeypatch.setattr(pdf_format, "_registered", {})
    with capture_logs() as logs:
        for _ in range(2):
            writer = pdf_format.writer(font=fonts.PdfFont(None), directory=tmp_path)
            writer.start(header())
            writer.records([message(1, EN_TEXT), message(2, ZH_TEXT)])
            writer.end("")
            reader = PdfReader(writer.finish().path)
            writer.discard()
    assert [log["event"] for log in logs] == ["export.pdf_font_fallback"]
    assert writer.font_name == fonts.FALLBACK_CID_FONT
    assert len(reader.pages) == 1
    assert "Retrofit budget" in reader.pages[0].extract_text()
