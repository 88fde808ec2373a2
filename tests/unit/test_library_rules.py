"""The library's pure rules (chat/library/service.py): metadata checks with every field named,
cursors that round-trip and refuse anything else, the link a message body records, and the
importer's manifest reading (chat/library/importer.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from chat.errors import BadRequest, InvalidInput
from chat.library.importer import ManifestError, read_manifest
from chat.library.service import LINK, DocDraft, check_meta, decode_cursor, encode_cursor
from chat.models import DocMeta

GOOD = DocDraft(title_en="Green roofs", title_zh="", description="d", doc_type="report", language="en",
                year=2020, source="s", sectors=["green-buildings", "green-buildings"], cities="zhuhai; hefei")


def test_good_metadata_is_cleaned():
    meta = check_meta(GOOD, None, 2026)
    assert meta == DocMeta("Green roofs", "", "d", "report", "en", 2020, "s", ("green-buildings",), ("zhuhai", "hefei"))


def test_every_wrong_field_is_named():
    with pytest.raises(InvalidInput) as caught:
        check_meta(DocDraft(title_en="  ", title_zh=None, doc_type="novel", language="fr", year=2028,
                            sectors=["zhuhai"], cities=["green-buildings"], description="x" * 5001), None, 2026)
    assert set(caught.value.details) == {"title", "type", "language", "year", "sectors", "cities", "description"}
    with pytest.raises(InvalidInput) as caught:
        check_meta(DocDraft(title_en="a\u202eb", doc_type="report", language="en", year=True), None, 2026)  # type: ignore[arg-type]
    assert set(caught.value.details) == {"title_en", "year"}
    assert check_meta(DocDraft(year=2027), check_meta(GOOD, None, 2026), 2026).year == 2027  # an edit keeps the rest
    with pytest.raises(InvalidInput):
        check_meta(DocDraft(year=1989), check_meta(GOOD, None, 2026), 2026)


def test_cursors_round_trip_and_refuse_anything_else():
    doc = "d-0123456789abcdef"
    assert decode_cursor(encode_cursor(5, doc), "newest") == (5, doc)
    assert decode_cursor(encode_cursor("海绵 city", doc), "title") == ("海绵 city", doc)
    for raw, sort in ((encode_cursor("x", doc), "newest"), (encode_cursor(5, doc), "title"),
                      (encode_cursor(5, "d-1"), "newest"), (encode_cursor(-1, doc), "downloads"),
                      ("%%%", "newest"), ("x" * 401, "newest"), ("bnVsbA", "newest")):
        with pytest.raises(BadRequest):
            decode_cursor(raw, sort)  # type: ignore[arg-type]


def test_a_body_links_documents_by_their_page():
    body = "see #/library/d-0123456789abcdef and https://x/library/d-fedcba9876543210, not /library/d-0123456789abcdefg"
    assert [m.group(1) for m in LINK.finditer(body)] == ["d-0123456789abcdef", "d-fedcba9876543210"]


def test_manifests_read_csv_and_yaml_and_refuse_the_unreadable(tmp_path: Path):
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("\ufefffile,title_en,year,sectors\na.pdf,A,2020,water-management;solid-waste\n", encoding="utf-8")
    row, = read_manifest(csv_file)
    assert (row.line, row.file, row.draft.year, row.draft.sectors) == (2, "a.pdf", 2020, "water-management;solid-waste")
    yaml_file = tmp_path / "m.yml"
    yaml_file.write_text("- {file: b.pdf, title_zh: 乙, year: '2021', cities: [zhuhai]}\n", encoding="utf-8")
    row, = read_manifest(yaml_file)
    assert (row.file, row.draft.title_zh, row.draft.year, row.draft.cities) == ("b.pdf", "乙", 2021, ["zhuhai"])
    (tmp_path / "bad.yaml").write_text("- [1, 2]\n")
    for name in ("absent.csv", "m.json", "bad.yaml"):
        with pytest.raises(ManifestError):
            read_manifest(tmp_path / name)
