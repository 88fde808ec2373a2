"""`ecolink import-library DIR --manifest FILE`: a folder of documents and a CSV or YAML manifest of
their metadata into the library, published, as one member (docs/operations.md, "Seeding the
library"). Each row is checked like a proposal through the library service; a row that cannot
be imported is skipped with its reason and the others go on. Re-running is safe: a row whose
file (same SHA-256) is already in the library under the same titles is a duplicate.

Manifest columns (CSV header / YAML keys): file, title_en, title_zh, description, type,
language, year, source, sectors, cities. In CSV, sectors and cities are ';'-separated room ids;
in YAML, lists or such strings. A YAML manifest is a list of rows or {documents: [rows]}.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from chat.errors import ChatError, InvalidInput, PayloadTooLarge, UnsupportedType
from chat.files.service import FileService
from chat.library.service import DocDraft, LibraryService, check_meta
from chat.models import User

COLUMNS = ("file", "title_en", "title_zh", "description", "type", "language", "year", "source",
           "sectors", "cities")
MAX_MANIFEST_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000


class ManifestError(Exception):
    """The manifest cannot be read at all (exit code 2): its message says why, quoting no cell."""


@dataclass(frozen=True, slots=True)
class ManifestRow:
    line: int  # the row's number: its line in a CSV file, its position (from 1) in YAML
    file: str
    draft: DocDraft


@dataclass(frozen=True, slots=True)
class Skipped:
    line: int
    file: str
    reason: str


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _year(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 6:
        return int(value.strip())
    if value is None or value == "":
        return None
    return value  # check_meta names it


def _list(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return [str(item) for item in value]
    return str(value)


def _row(line: int, fields: dict[str, Any]) -> ManifestRow:
    return ManifestRow(line, _text(fields.get("file")) or "", DocDraft(
        title_en=_text(fields.get("title_en")), title_zh=_text(fields.get("title_zh")),
        description=_text(fields.get("description")), doc_type=_text(fields.get("type")),
        language=_text(fields.get("language")), year=_year(fields.get("year")),
        source=_text(fields.get("source")), sectors=_list(fields.get("sectors")),
        cities=_list(fields.get("cities"))))


def read_manifest(path: Path) -> list[ManifestRow]:
    """The manifest's rows; ManifestError when it is missing, unreadable, of an unknown kind
    (by extension: .csv, .yaml, .yml) or not shaped like a manifest."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".yaml", ".yml"):
        raise ManifestError("the manifest must be a .csv, .yaml or .yml file")
    try:
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ManifestError(f"the manifest is larger than {MAX_MANIFEST_BYTES // (1024 * 1024)} MiB")
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ManifestError("the manifest file does not exist") from None
    except UnicodeDecodeError:
        raise ManifestError("the manifest is not UTF-8 text") from None
    except OSError as exc:
        raise ManifestError(f"cannot read the manifest: {exc.strerror or type(exc).__name__}") from None
    rows = _read_csv(text) if suffix == ".csv" else _read_yaml(text)
    if len(rows) > MAX_ROWS:
        raise ManifestError(f"the manifest has more than {MAX_ROWS} rows")
    return rows


def _read_csv(text: str) -> list[ManifestRow]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
        if not header or "file" not in [name.strip() for name in header]:
            raise ManifestError("the CSV manifest needs a header row with at least a 'file' column"
                                f" (columns: {', '.join(COLUMNS)})")
        rows = []
        for record in reader:
            fields = {(key or "").strip(): value for key, value in record.items()}
            rows.append(_row(reader.line_num, fields))
    except csv.Error as exc:
        raise ManifestError(f"the CSV manifest is malformed near line {reader.line_num}: {exc}") from None
    return rows


def _read_yaml(text: str) -> list[ManifestRow]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 1}" if mark is not None else ""
        raise ManifestError(f"the YAML manifest is malformed{where}") from None
    if isinstance(doc, dict) and "documents" in doc:
        doc = doc["documents"]
    if not isinstance(doc, list) or not all(isinstance(item, dict) for item in doc):
        raise ManifestError("the YAML manifest must be a list of documents (or {documents: [...]})")
    return [_row(index, {str(k): v for k, v in item.items()}) for index, item in enumerate(doc, 1)]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _details(exc: ChatError) -> str:
    if isinstance(exc.details, dict) and exc.details:
        return "; ".join(f"{key}: {value}" for key, value in exc.details.items())
    return exc.message


class Importer:
    def __init__(self, library: LibraryService, files: FileService, owner: User, folder: Path, this_year: int) -> None:
        self._library = library
        self._files = files
        self._owner = owner
        self._folder = folder.resolve()
        self._this_year = this_year

    def _path(self, name: str) -> Path | None:
        if not name:
            return None
        path = (self._folder / name).resolve()
        if not path.is_relative_to(self._folder) or not path.is_file():
            return None
        return path

    async def one(self, row: ManifestRow) -> str | Skipped:
        """The new document's id, or why the row was skipped."""
        path = self._path(row.file)
        if path is None:
            return Skipped(row.line, row.file, "missing file (not in the folder)")
        try:
            meta = check_meta(row.draft, None, self._this_year)
        except InvalidInput as exc:
            return Skipped(row.line, row.file, f"invalid metadata: {_details(exc)}")
        duplicate = await self._library.duplicate_of(_sha256(path), meta)
        if duplicate is not None:
            return Skipped(row.line, row.file, f"duplicate: already in the library as {duplicate}")
        try:
            stored = await self._files.ingest(self._owner, path.name, path, None, path.stat().st_size)
        except UnsupportedType as exc:
            return Skipped(row.line, row.file, f"type refused: {exc.message}")
        except PayloadTooLarge as exc:
            return Skipped(row.line, row.file, f"too large: {exc.message}")
        try:
            doc = await self._library.create(self._owner, row.draft, stored.file_id, "imported")
        except InvalidInput as exc:
            return Skipped(row.line, row.file, f"invalid metadata: {_details(exc)}")
        return doc.doc_id

    async def run(self, rows: list[ManifestRow], advance: Callable[[], None]) -> tuple[list[str], list[Skipped]]:
        imported: list[str] = []
        skipped: list[Skipped] = []
        for row in rows:
            outcome = await self.one(row)
            if isinstance(outcome, Skipped):
                skipped.append(outcome)
            else:
                imported.append(outcome)
            advance()
        return imported, skipped
