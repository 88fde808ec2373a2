"""The export writers (chat/export/formats/: markdown, html, jsonl, csv), without I/O: each digest
line verifies, CSV neutralises formulas, HTML loads nothing and escapes what is not the stored
sanitised html, Markdown marks edited and deleted messages, labels follow the language."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

import pytest

from chat.export.digest import Digest, split_digest, verify
from chat.export.formats import new_writer
from chat.export.labels import LABELS, event_text
from chat.export.records import Entry, Header, PollRecord, QuestionRecord, Reaction

NOW = 1_790_000_000_000  # 2026-09-21 (UTC)
TEXT_FORMATS = ("markdown", "html", "jsonl", "csv")


def header(fmt, lang="en", **changes):
    values = dict(scope="sector", room_id="green-buildings", title_en="Green buildings", title_zh="绿色建筑",
                  from_ms=None, to_ms=None, time_zone="Asia/Shanghai", lang=lang, made_at_ms=NOW,
                  made_by_id=7, made_by_name="Ann", participants=("Ann", "Bob"), format=fmt)
    values.update(changes)
    return Header(**values)


def message(seq, text, **changes):
    values = dict(room_id="green-buildings", seq=seq, entry_id=f"m{seq}", at_ms=NOW + seq * 60_000, kind="message",
                  author_id=7, author_name="Ann", author_role="member", text=text, html="")
    values.update(changes)
    return Entry(**values)


RECORDS = [
    message(1, "Retrofit plan", html="<p>Retrofit plan</p>", edited_at_ms=NOW + 5,
            reactions=(Reaction("👍", ("Bob", "Cai")),)),
    message(2, "", deleted=True),
    Entry(room_id="green-buildings", seq=3, entry_id="s3", at_ms=NOW + 180_000, kind="status", author_id=7,
          author_name="Ann", author_role="member", data={"status": "answered"}),
    message(4, "a reply", room_id="t-1", thread_id="t-1"),
]
QUESTIONS = [
    QuestionRecord("q1", NOW, None, "answered", True, 3, "Why roofs?", "Because.", "<p>Because.</p>", "Dr Li"),
    QuestionRecord("q2", NOW, "Bob", "open", False, 0, "Costs?", "", "", None),
]
POLLS = [PollRecord("p1", NOW, "Which?", "哪个？", (("A", "甲"), ("B", "乙")), False, "closed", (2, 1), 3),
         PollRecord("p2", NOW, "Hidden?", "", (("Y", ""), ("N", "")), True, "open", None, None)]


def transcript(fmt, lang="en", records=RECORDS, webinar=False) -> bytes:
    writer = new_writer(fmt)
    digest = Digest()
    out = [digest.add(writer.start(header(fmt, lang, scope="webinar" if webinar else "sector")))]
    out.append(digest.add(writer.section("chat")))
    out.append(digest.add(writer.records(records)))
    if webinar:
        out.append(digest.add(writer.section("questions")))
        out.append(digest.add(writer.records(QUESTIONS)))
        out.append(digest.add(writer.section("polls")))
        out.append(digest.add(writer.records(POLLS)))
    out.append(writer.end(digest.hexdigest()))
    return b"".join(out)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_last_line_states_the_sha256_of_every_byte_before_it(fmt, lang):
    data = transcript(fmt, lang, webinar=True)
    assert verify(data)
    before, stated = split_digest(data)
    assert stated == hashlib.sha256(before).hexdigest()
    # One byte changed anywhere before the digest line, and it no longer verifies.
    tampered = data.replace(b"Retrofit", b"Retrofix", 1)
    assert tampered != data and not verify(tampered)
    last = data.rstrip(b"\r\n").rsplit(b"\n", 1)[1].decode()
    expected = {"markdown": f"SHA-256: {stated}", "jsonl": json.dumps({"type": "digest", "sha256": stated}),
                "csv": f"# SHA-256,{stated}",
                "html": f'<footer id="digest">SHA-256 {stated}</footer></body></html>'}[fmt]
    assert last.replace(" ", "") == expected.replace(" ", "")


def test_csv_neutralises_cells_a_spreadsheet_would_run():
    hostile = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tcmd", "\rcmd", "plain", "a=b"]
    records = [message(i + 1, text, author_name="=cmd|' /C calc'!A0" if i == 0 else "Ann")
               for i, text in enumerate(hostile)]
    data = transcript("csv", records=records)
    assert verify(data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    columns = rows.index(next(row for row in rows if row and row[0] == "section"))
    texts = [row[6] for row in rows[columns + 1:-1]]
    assert texts == ["'" + text for text in hostile[:6]] + ["plain", "a=b"]
    assert rows[columns + 1][5] == "'=cmd|' /C calc'!A0"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)
    assert rows[-1][0] == "# SHA-256"


def test_html_loads_nothing_and_escapes_everything_but_the_stored_html():
    records = [
        message(1, "<script>alert(1)</script>", author_name="<img src=x onerror=alert(1)>"),
        message(2, "kept", html="<p><strong>kept</strong></p>"),
    ]
    data = transcript("html", records=records).decode()
    assert verify(data.encode())
    assert "<script" not in data.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data
    assert "&lt;img src=x onerror=alert(1)&gt;" in data and "<img" not in data
    assert "<p><strong>kept</strong></p>" in data
    tags = re.findall(r"<([a-zA-Z]+)([^>]*)>", data)
    assert not {name.lower() for name, _ in tags} & {"script", "link", "img", "iframe", "object", "embed"}
    assert not [attrs for _, attrs in tags if re.search(r"\b(src|href)\s*=", attrs)]
    for external in ("url(", "@import", "http://", "https://"):
        assert external not in data
    assert "default-src 'none'" in data and "@media print" in data
    webinar = transcript("html", webinar=True).decode()
    assert "<script" not in webinar.lower() and verify(webinar.encode())


def test_markdown_marks_edited_and_deleted_messages_and_lists_reactions_by_name():
    en = transcript("markdown").decode()
    assert "**Ann** · 2026-09-21 22:14 (edited)" in en  # Asia/Shanghai
    assert "*(message deleted)*" in en
    assert "👍 Bob, Cai" in en
    assert "> a reply" in en  # a topic's reply, quoted under it
    assert "status changed to answered" in en
    zh = transcript("markdown", "zh").decode()
    assert "(已编辑)" in zh and "（消息已删除）" in zh and "状态改为已回答" in zh
    assert "(edited)" not in zh


def test_labels_follow_the_language_and_the_title_comes_in_it_first():
    zh = transcript("markdown", "zh", webinar=True).decode()
    assert zh.startswith("# 记录导出: 绿色建筑 / Green buildings")
    for key in ("scope", "range", "time_zone", "participants", "made_at", "made_by", "format", "questions", "polls"):
        assert LABELS[key]["zh"] in zh, key
    assert "匿名" in zh and "甲: 2" in zh and "结果未公开" in zh
    en = transcript("markdown", "en", webinar=True).decode()
    assert en.startswith("# Transcript: Green buildings / 绿色建筑")
    assert "Anonymous" in en and "results not public" in en
    csv_zh = transcript("csv", "zh").decode("utf-8-sig")
    assert "# 时区,Asia/Shanghai" in csv_zh


def test_every_label_has_both_languages_and_events_read_in_each():
    assert all(set(values) == {"en", "zh"} and all(values.values()) for values in LABELS.values())
    membership = Entry(room_id="d-1", seq=1, entry_id="x", at_ms=NOW, kind="membership", author_id=1,
                       author_name="Ann", author_role="member",
                       data={"change": "added", "user": {"id": 2, "name": "Bob"}, "by": {"id": 1, "name": "Ann"}})
    assert event_text("en", membership) == "Ann added Bob"
    assert event_text("zh", membership) == "Ann 添加了 Bob"
    webinar = Entry(room_id="webinar-1", seq=1, entry_id="y", at_ms=NOW, kind="webinar", author_id=1,
                    author_name="Ann", author_role="member", data={"change": "live"})
    assert (event_text("en", webinar), event_text("zh", webinar)) == ("webinar started", "研讨会已开始")


def test_jsonl_lines_are_json_objects_with_a_type():
    lines = [json.loads(line) for line in transcript("jsonl", webinar=True).decode().splitlines()]
    assert [line["type"] for line in lines] == [
        "header", "section", "message", "message", "event", "message", "section", "question", "question",
        "section", "poll", "poll", "digest"]
    head = lines[0]
    assert head["title"] == {"en": "Green buildings", "zh": "绿色建筑"} and head["from"] is None
    first = lines[2]
    assert first["edited_at"] is not None and first["reactions"] == [{"emoji": "👍", "names": ["Bob", "Cai"]}]
    assert first["at"].endswith("+08:00") and first["at_ms"] == NOW + 60_000
    assert lines[3]["deleted"] is True and lines[3]["text"] == ""
    assert lines[4]["kind"] == "status" and lines[4]["data"] == {"status": "answered"}
    assert lines[5]["thread"] == "t-1"
    assert lines[7]["author"] is None and lines[7]["answered_by"] == "Dr Li"
    assert lines[11]["counts"] is None and lines[10]["counts"] == [2, 1]


def test_markdown_escapes_names_and_titles_but_keeps_message_markdown():
    records = [message(1, "**bold** body", author_name="*Eve* [x](http://e.test) <b>")]
    data = transcript("markdown", records=records).decode()
    assert r"**\*Eve\* \[x\](http://e.test) \<b\>**" in data
    assert "\n**bold** body\n" in data  # the member's own Markdown, as written
    assert "2026-09-21 22:14" in data  # dates and plain punctuation stay readable
