"""The text inside a library document's file, for the search index (docs/decisions.md, "Search:
text from documents"): PDF through pypdfium2 (PDFium, the engine the previews use), DOCX through
python-docx, XLSX through openpyxl (read-only, cell values), PPTX through python-pptx, and plain
text, Markdown and CSV as UTF-8. Other types (images, ZIP, the legacy binary Office formats)
have no text here.

Bounded: at most `limit` characters (tokens.MAX_INDEXED_CHARS, what an entry indexes), and at
most MAX_PAGES pages, slides or sheets and MAX_ROWS rows of a sheet; an Office file whose
parts would unpack to more than MAX_UNPACKED_BYTES is not opened (a ZIP bomb). A file that
cannot be read gives no text and the name of what went wrong, never an exception: the caller
logs it with the document's id and indexes the title and description alone.

Synchronous and CPU-bound: call `extract` (a worker thread), not `extract_text`, on the event
loop."""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from chat.search.tokens import MAX_INDEXED_CHARS

MAX_PAGES = 2000  # pages of a PDF, slides of a PPTX, sheets of an XLSX
MAX_ROWS = 100_000  # rows of one sheet
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # an Office file's parts, unpacked
# A file larger than this is not read for its text (its title and description still are).
MAX_SOURCE_BYTES = 64 * 1024 * 1024

_OOXML = "application/vnd.openxmlformats-officedocument."
PDF = "application/pdf"
DOCX = _OOXML + "wordprocessingml.document"
XLSX = _OOXML + "spreadsheetml.sheet"
PPTX = _OOXML + "presentationml.presentation"
TEXT_TYPES = ("text/plain", "text/csv", "text/markdown")


@dataclass(frozen=True, slots=True)
class Extracted:
    """The text found (cut at the limit), and what went wrong when the file could not be read
    (an exception's class name: nothing of the file's content), else None."""

    text: str
    problem: str | None = None


class _Collector:
    """Pieces of text joined by newlines until the limit; full once it is reached."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    @property
    def full(self) -> bool:
        return self.size >= self.limit

    def add(self, text: str) -> None:
        text = text.strip()
        if text and not self.full:
            piece = text[:self.limit - self.size]
            self.parts.append(piece)
            self.size += len(piece) + 1

    def text(self) -> str:
        return "\n".join(self.parts)[:self.limit]


def has_text(mime: str) -> bool:
    """Whether files of this type have text to extract."""
    return mime in (PDF, DOCX, XLSX, PPTX) or mime in TEXT_TYPES


def extract_text(data: bytes, mime: str, limit: int = MAX_INDEXED_CHARS) -> Extracted:
    """The text of a file of type `mime` (as chat/files/kinds.py decided it from the bytes)."""
    if not has_text(mime):
        return Extracted("")
    if len(data) > MAX_SOURCE_BYTES:
        return Extracted("", "TooLarge")
    out = _Collector(limit)
    try:
        if mime == PDF:
            _pdf(data, out)
        elif mime in TEXT_TYPES:
            out.add(data.decode("utf-8-sig", errors="replace"))
        else:
            _check_unpacked(data)
            {DOCX: _docx, XLSX: _xlsx, PPTX: _pptx}[mime](data, out)
    except Exception as exc:  # noqa: BLE001 - any library's failure on a broken file: no text
        return Extracted("", type(exc).__name__)
    return Extracted(out.text())


async def extract(data: bytes, mime: str, limit: int = MAX_INDEXED_CHARS) -> Extracted:
    """extract_text in a worker thread."""
    return await asyncio.to_thread(extract_text, data, mime, limit)


class TooLarge(Exception):
    """An Office file that would unpack to more than MAX_UNPACKED_BYTES."""


def _check_unpacked(data: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
            raise TooLarge()


def _pdf(data: bytes, out: _Collector) -> None:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        for index in range(min(len(pdf), MAX_PAGES)):
            if out.full:
                break
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    out.add(textpage.get_text_range())
                finally:
                    textpage.close()
            finally:
                page.close()
    finally:
        pdf.close()


def _docx(data: bytes, out: _Collector) -> None:
    import docx

    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        if out.full:
            return
        out.add(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            if out.full:
                return
            out.add(" ".join(cell.text for cell in row.cells))


def _xlsx(data: bytes, out: _Collector) -> None:
    import openpyxl  # type: ignore[import-untyped]  # no type information shipped

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets[:MAX_PAGES]:
            out.add(sheet.title)
            for count, row in enumerate(sheet.iter_rows(values_only=True)):
                if out.full or count >= MAX_ROWS:
                    break
                out.add(" ".join(str(value) for value in row if value is not None))
    finally:
        book.close()


def _pptx(data: bytes, out: _Collector) -> None:
    import pptx

    presentation = pptx.Presentation(io.BytesIO(data))
    for index, slide in enumerate(presentation.slides):
        if out.full or index >= MAX_PAGES:
            return
        for text in _slide_texts(slide):
            out.add(text)


def _slide_texts(slide: object) -> Iterator[str]:
    shapes = list(getattr(slide, "shapes", []))
    while shapes:
        shape = shapes.pop(0)
        if getattr(shape, "has_text_frame", False):
            yield shape.text_frame.text
        if getattr(shape, "has_table", False):
            for row in shape.table.rows:
                yield " ".join(cell.text for cell in row.cells)
        shapes.extend(getattr(shape, "shapes", []))  # a group's shapes
