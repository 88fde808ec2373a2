"""Sample files for the file tests: a real PDF (reportlab), PNG and JPEG with EXIF and GPS
(Pillow), a DOCX zipped from its parts, and the helpers that read a preview's metadata; for the
search's text extraction, PDF, DOCX, XLSX and PPTX files with Chinese and English text made by
the libraries that write them."""

from __future__ import annotations

import io
import zipfile

import docx
import openpyxl
import pptx
from PIL import Image
from pptx.util import Inches
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def pdf_bytes(text: str = "Eco-city report", pages: int = 1) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for page in range(pages):
        pdf.drawString(72, 720, f"{text} {page + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "EcoCam"
    exif[ORIENTATION] = 6  # rotated: exif_transpose turns the image upright
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (22.0, 16.0, 12.0), 3: "E", 4: (113.0, 34.0, 7.0)})
    return exif


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (1200, 800), exif: bool = True) -> bytes:
    image = Image.new("RGB", size, (30, 140, 60))
    for x in range(0, size[0], 40):
        for y in range(size[1] // 2):
            image.putpixel((x, y), (200, 30, 30))
    out = io.BytesIO()
    image.save(out, fmt, **({"exif": exif_with_gps()} if exif else {}))
    return out.getvalue()


def docx_bytes(text: str = "Hello") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                   f'<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>')
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("data/readme.txt", "hello")
    return out.getvalue()


def metadata_of(data: bytes) -> tuple[str, dict[int, object], bytes | None, bytes | None]:
    """(format, EXIF tags, XMP, ICC) of an image."""
    with Image.open(io.BytesIO(data)) as image:
        return image.format or "", dict(image.getexif()), image.info.get("xmp"), image.info.get("icc_profile")


def cjk_pdf_bytes(*pages: str) -> bytes:
    """A PDF of one line of text per page, in Chinese or English (STSong, one of the CJK
    fonts every PDF reader has: nothing embedded)."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    page = canvas.Canvas(out)
    for text in pages:
        page.setFont("STSong-Light", 12)
        page.drawString(72, 720, text)
        page.showPage()
    page.save()
    return out.getvalue()


def word_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.cell(r, c).text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: dict[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def pptx_bytes(slides: list[str], table: list[list[str]] | None = None) -> bytes:
    deck = pptx.Presentation()
    for text in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
        slide.shapes.title.text = text
    if table:
        slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank
        shape = slide.shapes.add_table(len(table), len(table[0]), Inches(1), Inches(1), Inches(6), Inches(2))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                shape.table.cell(r, c).text = text
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
