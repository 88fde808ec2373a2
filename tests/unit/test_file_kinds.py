"""What a file is, from its bytes (chat/files/kinds.py), its safe name and Content-Disposition
(chat/files/names.py), and its preview (chat/files/previews.py)."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from chat.errors import UnsupportedType
from chat.files import kinds
from chat.files.kinds import sniff
from chat.files.names import MAX_NAME_CHARS, ascii_fallback, content_disposition, safe_name
from chat.files.previews import PREVIEW_PX, image_preview, pdf_preview
from tests.support.files import GPS_IFD, docx_bytes, image_bytes, metadata_of, pdf_bytes, zip_bytes

OLE = bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600


@pytest.mark.parametrize(("data", "name", "claimed", "mime", "kind"), [
    (pdf_bytes(), "report.pdf", "application/pdf", "application/pdf", "pdf"),
    (image_bytes("PNG"), "photo.PNG", "image/png", "image/png", "image"),
    (image_bytes("JPEG"), "photo.jpg", "image/jpeg", "image/jpeg", "image"),
    (image_bytes("GIF", exif=False), "a.gif", None, "image/gif", "image"),
    (image_bytes("WEBP", exif=False), "a.webp", "", "image/webp", "image"),
    (docx_bytes(), "计划.docx", "application/octet-stream",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "office"),
    (OLE, "old.doc", None, "application/msword", "office"),
    (OLE, "old.xls", None, "application/vnd.ms-excel", "office"),
    (OLE, "old.ppt", None, "application/vnd.ms-powerpoint", "office"),
    (zip_bytes(), "data.zip", "application/x-zip-compressed", "application/zip", "zip"),
    ("生态城市 notes\n".encode(), "notes.txt", "text/plain; charset=utf-8", "text/plain", "text"),
    ("\ufeffcity,co2\n珠海,12\n".encode(), "figures.csv", "application/vnd.ms-excel", "text/csv", "csv"),
])
def test_allowed_files_are_known_by_their_bytes(data, name, claimed, mime, kind):
    found = sniff(data[:8192], name, claimed, whole=len(data) <= 8192)
    assert (found.mime, found.kind) == (mime, kind)


def test_a_multibyte_character_cut_at_the_window_end_is_still_text():
    data = ("城" * 5000).encode()
    assert sniff(data[:8192], "long.txt", None, whole=False).kind == "text"
    with pytest.raises(UnsupportedType):
        sniff(data[:8192], "long.txt", None, whole=True)  # the whole file ends mid-character


@pytest.mark.parametrize(("data", "name", "claimed"), [
    (b"<html><script>alert(1)</script></html>", "invoice.pdf", "application/pdf"),  # HTML named .pdf
    (pdf_bytes(), "picture.png", "image/png"),  # PDF bytes named and claimed as PNG
    (pdf_bytes(), "report.pdf", "image/png"),  # the claim disagrees
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "setup.txt", None),  # an executable
    (b"\x1f\x8b\x08\x00" + b"\x00" * 100, "a.zip", None),  # gzip: not allowed
    (b"text\x00with NUL", "a.txt", None),
    (b"\xff\xfe\x00h\x00i", "a.txt", None),  # UTF-16 is not UTF-8 text
    (b"plain text", "noext", None),  # no extension
    (image_bytes("PNG"), "photo.jpg", None),  # PNG named .jpg
    (b"", "empty.txt", None),
])
def test_refused_files(data, name, claimed):
    with pytest.raises(UnsupportedType) as refused:
        sniff(data[:8192], name, claimed, whole=True)
    assert refused.value.status == 415 and refused.value.code == "unsupported_type"


@pytest.mark.parametrize(("raw", "safe"), [
    ("城市更新 report.pdf", "城市更新 report.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("C:\\Users\\ann\\計画.docx", "計画.docx"),
    ("evil\u202egpj.exe.txt", "evilgpj.exe.txt"),  # a bidi override hides the real extension
    ("a\x00b\x1fc\u200b.csv", "abc.csv"),
    ('what?<is>"this"|*.txt', "what__is__this___.txt"),
    ("  ..hidden.  ", "hidden"),
    ("CON.txt", "_CON.txt"),
    ("tab\tand   spaces.txt", "tab and spaces.txt"),
    ("", "file"),
    ("/", "file"),
])
def test_safe_names(raw, safe):
    assert safe_name(raw) == safe


def test_a_long_name_keeps_its_extension():
    name = safe_name("长" * 500 + ".pdf")
    assert len(name) == MAX_NAME_CHARS and name.endswith("长.pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    value = content_disposition("城市更新 report (2024).pdf")
    fallback, star = value.split("; filename*=UTF-8''")
    assert fallback == 'attachment; filename="report (2024).pdf"'
    assert unquote(star) == "城市更新 report (2024).pdf" and " " not in star and "(" not in star
    assert ascii_fallback("城市.pdf") == "file.pdf"
    assert ascii_fallback('Café "x".txt') == "Cafe _x.txt"
    assert ascii_fallback("noext") == "noext"


def test_an_image_preview_is_upright_small_webp_without_exif_or_gps(tmp_path: Path):
    source = tmp_path / "photo.jpg"
    source.write_bytes(image_bytes("JPEG", (1600, 900)))
    _, exif, _, _ = metadata_of(source.read_bytes())
    assert GPS_IFD in exif  # the original has it
    preview = image_preview(source)
    assert preview is not None
    fmt, exif, xmp, icc = metadata_of(preview.webp)
    assert fmt == "WEBP" and exif == {} and xmp is None and icc is None
    # Orientation 6: the 1600x900 picture stands upright as 900x1600, scaled to 640 high.
    assert (preview.width, preview.height) == (360, PREVIEW_PX)
    with Image.open(io.BytesIO(preview.webp)) as image:
        assert image.size == (360, PREVIEW_PX)


def test_a_pdf_preview_is_its_first_page(tmp_path: Path):
    source = tmp_path / "r.pdf"
    source.write_bytes(pdf_bytes(pages=3))
    preview = pdf_preview(source)
    assert preview is not None and max(preview.width, preview.height) == PREVIEW_PX
    assert metadata_of(preview.webp)[0] == "WEBP"


def test_a_decompression_bomb_gets_no_preview(tmp_path: Path):
    source = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000)).save(source)  # 100 million pixels in a few KiB
    assert source.stat().st_size < 100_000
    assert image_preview(source) is None


def test_every_part_of_a_text_file_is_text_even_with_characters_straddling_parts() -> None:
    text = "城市更新 eco-city, 生态城市\n".encode() * 50
    for cut in range(1, 40):  # every place a character can be cut at
        first, second = text[:cut], text[cut:]
        kinds.check_text_part(first, first=True, last=False)
        kinds.check_text_part(second, first=False, last=True)
    for bad, where in ((b"ok\x00", {}), (b"\xff\xfe", {}), ("城".encode()[:2], {"last": True}),
                       (b"\x80\x80\x80\x80abc", {"first": False})):
        with pytest.raises(UnsupportedType):
            kinds.check_text_part(bad, **{"first": True, "last": False, **where})
