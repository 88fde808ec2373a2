"""Text from documents' files (chat/search/extract.py): each format, made here with the
libraries that write it, in Chinese and English; the limits; broken files give no text and the
name of what went wrong, never an exception."""

from __future__ import annotations

import io
import zipfile

import pytest

from chat.search import extract as ex
from chat.search.extract import DOCX, PDF, PPTX, XLSX, extract, extract_text
from tests.support.files import cjk_pdf_bytes as make_pdf
from tests.support.files import pptx_bytes as make_pptx
from tests.support.files import word_bytes as make_docx
from tests.support.files import xlsx_bytes as make_xlsx


def test_a_pdf_gives_the_text_of_every_page_in_chinese_and_english():
    got = extract_text(make_pdf("快速公交系统 BRT planning in Zhuhai", "海绵城市 sponge city retrofit"), PDF)
    assert got.problem is None
    assert "快速公交系统" in got.text and "BRT planning in Zhuhai" in got.text
    assert "海绵城市" in got.text and "sponge city retrofit" in got.text


def test_a_docx_gives_its_paragraphs_and_tables():
    data = make_docx(["绿色建筑评价标准", "Green building rating"], [["节能率", "Energy saving"], ["65%", "district heating"]])
    got = extract_text(data, DOCX)
    assert got.problem is None
    for words in ("绿色建筑评价标准", "Green building rating", "节能率 Energy saving", "district heating"):
        assert words in got.text


def test_an_xlsx_gives_its_sheets_names_and_cell_values():
    data = make_xlsx({"指标 Indicators": [["城市", "City", "CO2 t"], ["珠海", "Zhuhai", 1250.5]],
                      "Second": [["光伏屋顶", None, "rooftop solar"]]})
    got = extract_text(data, XLSX)
    assert got.problem is None
    for words in ("指标 Indicators", "城市 City CO2 t", "珠海 Zhuhai 1250.5", "光伏屋顶 rooftop solar"):
        assert words in got.text


def test_a_pptx_gives_its_slides_text_and_tables():
    data = make_pptx(["低碳交通 Low-carbon transport", "第二张 second slide"], [["公交", "bus"], ["地铁", "metro"]])
    got = extract_text(data, PPTX)
    assert got.problem is None
    for words in ("低碳交通 Low-carbon transport", "second slide", "公交 bus", "地铁 metro"):
        assert words in got.text


@pytest.mark.parametrize("mime", ["text/plain", "text/csv", "text/markdown"])
def test_text_files_are_read_as_utf8_without_their_bom(mime):
    got = extract_text("\ufeff# 城市更新\nurban renewal, 2030\n".encode(), mime)
    assert got == ex.Extracted("# 城市更新\nurban renewal, 2030")


def test_types_without_text_give_none_and_no_problem():
    assert extract_text(b"\x89PNG\r\n\x1a\n....", "image/png") == ex.Extracted("")
    assert extract_text(b"PK\x03\x04", "application/zip") == ex.Extracted("")


@pytest.mark.parametrize("mime", [PDF, DOCX, XLSX, PPTX])
def test_a_broken_file_gives_no_text_and_names_the_problem(mime):
    for data in (b"", b"%PDF-1.7 not really", b"PK\x03\x04 broken zip", make_docx(["x"])[:200]):
        got = extract_text(data, mime)
        assert got.text == "" and got.problem, (mime, data[:20])


def test_a_docx_given_as_a_pptx_is_a_problem_not_a_crash():
    got = extract_text(make_docx(["hello"]), PPTX)
    assert got.text == "" and got.problem


def test_text_stops_at_the_limit():
    got = extract_text(make_docx([f"paragraph {n} 段落" for n in range(500)]), DOCX, limit=1000)
    assert got.problem is None and len(got.text) == 1000 and got.text.startswith("paragraph 0 段落")
    assert len(extract_text(("长" * 5000).encode(), "text/plain", limit=300).text) == 300


def test_pages_past_the_cap_are_not_read(monkeypatch):
    monkeypatch.setattr(ex, "MAX_PAGES", 2)
    got = extract_text(make_pdf("first", "second", "third"), PDF)
    assert "second" in got.text and "third" not in got.text


def test_an_office_file_that_would_unpack_too_large_is_not_opened(monkeypatch):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * 100_000)
    monkeypatch.setattr(ex, "MAX_UNPACKED_BYTES", 50_000)
    assert extract_text(out.getvalue(), DOCX) == ex.Extracted("", "TooLarge")
    monkeypatch.setattr(ex, "MAX_SOURCE_BYTES", 10)
    assert extract_text(make_pdf("x"), PDF) == ex.Extracted("", "TooLarge")


async def test_extract_runs_in_a_thread_and_gives_the_same():
    data = make_pdf("城市 city")
    assert await extract(data, PDF) == extract_text(data, PDF)
