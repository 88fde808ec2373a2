"""Writers: a transcript's records in to bytes out, one module per format, no I/O.

The service calls, in order: `start(header)`, then for each section `section(name)` and
`records(batch)` for each page, then (when the writer has it) its `before_digest` bytes, then
`end(sha256_hex)`. Every text format's last line states the SHA-256 of all the bytes before
that line (docs/protocol.md, "Exports"); the service computes it over what it streamed and
passes it to `end`.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module
from typing import Protocol

from chat.export.records import ExportFormat, Header, Record, Section


class Writer(Protocol):
    media_type: str  # e.g. "text/markdown; charset=utf-8"
    extension: str  # e.g. "md"

    def start(self, header: Header) -> bytes: ...

    def section(self, name: Section) -> bytes: ...

    def records(self, batch: Sequence[Record]) -> bytes: ...

    def end(self, sha256_hex: str) -> bytes: ...


# Each format's module defines `writer() -> Writer`; imported on first use so a
# node that never exports a PDF never loads the PDF library.
_MODULES: dict[ExportFormat, str] = {
    "markdown": "chat.export.formats.markdown",
    "html": "chat.export.formats.html",
    "pdf": "chat.export.formats.pdf",
    "jsonl": "chat.export.formats.jsonl",
    "csv": "chat.export.formats.csv",
}


def new_writer(fmt: ExportFormat) -> Writer:
    """A fresh writer for one export in `fmt`."""
    module = import_module(_MODULES[fmt])
    writer: Writer = module.writer()
    return writer
