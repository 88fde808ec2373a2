"""CSV (stdlib csv, RFC 4180 quoting, UTF-8 with a byte order mark so spreadsheets read Chinese
right): the header as `# field,value` rows, a row of column names, one row per record, and the
last row `# SHA-256,<hex>`. A cell that a spreadsheet would run as a formula (starting with
= + - @, a tab or a carriage return) is neutralised with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from chat.export.labels import event_text, header_fields, iso_local, label, state_name
from chat.export.records import Entry, Header, PollRecord, QuestionRecord, Record, Section

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ("section", "kind", "seq", "id", "time", "author", "text", "edited", "deleted", "reactions",
           "thread", "state", "votes", "answer", "answered_by")


def neutral(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvWriter:
    media_type = "text/csv; charset=utf-8"
    extension = "csv"

    def __init__(self) -> None:
        self._header: Header | None = None
        self._section: Section = "chat"

    def _rows(self, rows: Sequence[Sequence[object]]) -> bytes:
        out = io.StringIO()
        # RFC 4180: rows end with CRLF, and a cell holding a CR or LF is quoted.
        table = csv.writer(out, lineterminator="\r\n")
        table.writerows([[neutral(cell) for cell in row] for row in rows])
        return out.getvalue().encode()

    def start(self, header: Header) -> bytes:
        self._header = header
        rows: list[list[object]] = [[f"# {name}", value] for name, value in header_fields(header)]
        rows.append(list(COLUMNS))
        return "\ufeff".encode() + self._rows(rows)

    def section(self, name: Section) -> bytes:
        self._section = name
        return b""

    def records(self, batch: Sequence[Record]) -> bytes:
        return self._rows([self._row(record) for record in batch])

    def end(self, sha256_hex: str) -> bytes:
        return f"# SHA-256,{sha256_hex}\r\n".encode()

    def _row(self, record: Record) -> list[object]:
        assert self._header is not None
        lang, zone = self._header.lang, self._header.time_zone
        row: dict[str, object] = {"section": self._section}
        if isinstance(record, Entry):
            row.update(kind=record.kind, seq=record.seq, id=record.entry_id, time=iso_local(record.at_ms, zone),
                       author=record.author_name, thread=record.thread_id or "")
            if record.kind == "message":
                row.update(text=label(lang, "deleted") if record.deleted else record.text,
                           edited="yes" if record.edited_at_ms is not None and not record.deleted else "",
                           deleted="yes" if record.deleted else "",
                           reactions="; ".join(f"{r.emoji} {', '.join(r.names)}" for r in record.reactions))
            else:
                row["text"] = event_text(lang, record) + (f"\n{record.text}" if record.text else "")
        elif isinstance(record, QuestionRecord):
            row.update(kind="question", id=record.question_id, time=iso_local(record.at_ms, zone),
                       author=record.author_name or label(lang, "anonymous"), text=record.text,
                       state=state_name(lang, record.state) + (f", {label(lang, 'pinned')}" if record.pinned else ""),
                       votes=record.votes, answer=record.answer, answered_by=record.answered_by_name or "")
        else:
            assert isinstance(record, PollRecord)
            question = (record.question_zh or record.question_en) if lang == "zh" else (record.question_en or record.question_zh)
            options = []
            for index, (en, zh) in enumerate(record.options):
                option = (zh or en) if lang == "zh" else (en or zh)
                options.append(option if record.counts is None else f"{option}: {record.counts[index]}")
            row.update(kind="poll", id=record.poll_id, time=iso_local(record.at_ms, zone),
                       text=question + "\n" + "\n".join(options), state=state_name(lang, record.state),
                       votes="" if record.answers is None else record.answers,
                       answer="" if record.counts is not None else label(lang, "results_hidden"))
        return [row.get(column, "") for column in COLUMNS]


def writer() -> CsvWriter:
    return CsvWriter()
