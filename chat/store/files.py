"""Files and resumable uploads (migration 0018; the service is chat/files/service.py). One
implementation for both stores over the database handle; tests/contract/test_files_store.py
runs it on each.

Every change that several requests (or nodes) may race on is one conditional statement: a part
is committed only if the upload is still at the offset the writer started from, an upload is
finished once, a file is bound only while unbound. The sweeper's steps are idempotent, so
several nodes may sweep at once."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from chat.models import FileKind, FileState, StoredFile, Upload
from chat.store.database import Database, Row, UniqueViolation, bind

FILE_COLUMNS = (
    "file_id, owner_id, name, mime, kind, size, sha256, storage_key, state, scope, ref,"
    " preview_key, preview_w, preview_h, created_at_ms, bound_at_ms, deleted_at_ms, purge_after_ms"
)
UPLOAD_COLUMNS = (
    "upload_id, owner_id, client_key, name, claimed, size, received, part_size, parts,"
    " storage_key, handle, mime, kind, created_at_ms, expires_at_ms, file_id"
)
INSERT_FILE = f"INSERT INTO files ({FILE_COLUMNS}) VALUES ({', '.join('?' * 18)})"
INSERT_UPLOAD = f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES ({', '.join('?' * 16)})"
GET_FILE = f"SELECT {FILE_COLUMNS} FROM files WHERE file_id = ?"
GET_UPLOAD = f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?"
UPLOAD_BY_KEY = f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE owner_id = ? AND client_key = ?"
COMMIT_PART = (
    "UPDATE uploads SET received = ?, parts = ?, mime = COALESCE(?, mime), kind = COALESCE(?, kind),"
    " expires_at_ms = ? WHERE upload_id = ? AND received = ? AND file_id IS NULL"
)
FINISH_UPLOAD = "UPDATE uploads SET file_id = ? WHERE upload_id = ? AND file_id IS NULL AND received = size"
DELETE_UPLOAD = "DELETE FROM uploads WHERE upload_id = ?"
EXPIRED_UPLOADS = f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE expires_at_ms <= ? ORDER BY expires_at_ms LIMIT ?"
IN_USE = (
    "SELECT (SELECT COALESCE(sum(size), 0) FROM files WHERE owner_id = ? AND state = 'ready')"
    " + (SELECT COALESCE(sum(size), 0) FROM uploads WHERE owner_id = ? AND file_id IS NULL)"
)
BIND = "UPDATE files SET scope = ?, bound_at_ms = ? WHERE owner_id = ? AND state = 'ready' AND scope IS NULL AND {}"
SET_REF = "UPDATE files SET ref = ? WHERE state = 'ready' AND scope IS NOT NULL AND {}"
RELEASE = (
    "UPDATE files SET state = 'deleted', deleted_at_ms = ?, purge_after_ms = ?"
    " WHERE ref = ? AND state = 'ready'"
)
ORPHANS = (
    "UPDATE files SET state = 'deleted', deleted_at_ms = ?, purge_after_ms = ?"
    " WHERE state = 'ready' AND ref IS NULL AND COALESCE(bound_at_ms, created_at_ms) < ?"
)
TO_PURGE = (f"SELECT {FILE_COLUMNS} FROM files WHERE state = 'deleted' AND purge_after_ms <= ?"
            " ORDER BY purge_after_ms LIMIT ?")
FORGET_FILE = "DELETE FROM files WHERE file_id = ? AND state = 'deleted'"


def file_from_row(row: Row) -> StoredFile:
    return StoredFile(
        row[0], int(row[1]), row[2], row[3], cast(FileKind, row[4]), int(row[5]), row[6], row[7],
        cast(FileState, row[8]), row[9], row[10], row[11], row[12], row[13], int(row[14]), row[15],
        row[16], row[17],
    )


def upload_from_row(row: Row) -> Upload:
    parts = tuple((int(number), str(tag)) for number, tag in json.loads(row[8]))
    return Upload(
        row[0], int(row[1]), row[2], row[3], row[4], int(row[5]), int(row[6]), int(row[7]), parts,
        row[9], row[10], row[11], cast(FileKind | None, row[12]), int(row[13]), int(row[14]), row[15],
    )


def parts_text(parts: Sequence[tuple[int, str]]) -> str:
    return json.dumps([list(part) for part in parts], separators=(",", ":"))


def file_values(f: StoredFile) -> tuple[Any, ...]:
    return (f.file_id, f.owner_id, f.name, f.mime, f.kind, f.size, f.sha256, f.storage_key, f.state,
            f.scope, f.ref, f.preview_key, f.preview_w, f.preview_h, f.created_at_ms, f.bound_at_ms,
            f.deleted_at_ms, f.purge_after_ms)


class FilesMixin:
    """Mixed into each store (tests/contract/test_files_store.py)."""

    _db: Database

    # -- uploads -----------------------------------------------------------------------------

    async def create_upload(self, upload: Upload) -> tuple[Upload, bool]:
        u = upload
        try:
            await self._db.execute(
                INSERT_UPLOAD, u.upload_id, u.owner_id, u.client_key, u.name, u.claimed, u.size,
                u.offset, u.part_size, parts_text(u.parts), u.storage_key, u.handle, u.mime, u.kind,
                u.created_at_ms, u.expires_at_ms, u.file_id)
        except UniqueViolation:
            row = await self._db.fetch_one(UPLOAD_BY_KEY, u.owner_id, u.client_key)
            if row is None:  # the other one was swept in between: try once more
                return await self.create_upload(upload)
            return upload_from_row(row), False
        return upload, True

    async def upload_by_key(self, owner_id: int, client_key: str) -> Upload | None:
        row = await self._db.fetch_one(UPLOAD_BY_KEY, owner_id, client_key)
        return None if row is None else upload_from_row(row)

    async def get_upload(self, upload_id: str) -> Upload | None:
        row = await self._db.fetch_one(GET_UPLOAD, upload_id)
        return None if row is None else upload_from_row(row)

    async def commit_part(self, upload_id: str, from_offset: int, to_offset: int,
                          parts: Sequence[tuple[int, str]], mime: str | None, kind: str | None,
                          expires_at_ms: int) -> bool:
        changed = await self._db.execute(COMMIT_PART, to_offset, parts_text(parts), mime, kind,
                                         expires_at_ms, upload_id, from_offset)
        return changed == 1

    async def finish_upload(self, upload_id: str, file: StoredFile) -> bool:
        async with self._db.transaction() as conn:
            if await conn.execute(FINISH_UPLOAD, file.file_id, upload_id) != 1:
                return False
            await conn.execute(INSERT_FILE, *file_values(file))
        return True

    async def delete_upload(self, upload_id: str) -> bool:
        return await self._db.execute(DELETE_UPLOAD, upload_id) == 1

    async def expired_uploads(self, now_ms: int, limit: int) -> list[Upload]:
        return [upload_from_row(row) for row in await self._db.fetch(EXPIRED_UPLOADS, now_ms, limit)]

    async def bytes_in_use(self, owner_id: int) -> int:
        row = await self._db.fetch_one(IN_USE, owner_id, owner_id)
        return 0 if row is None else int(row[0])

    # -- files -------------------------------------------------------------------------------

    async def add_file(self, file: StoredFile) -> None:
        await self._db.execute(INSERT_FILE, *file_values(file))

    async def get_file(self, file_id: str) -> StoredFile | None:
        row = await self._db.fetch_one(GET_FILE, file_id)
        return None if row is None else file_from_row(row)

    async def files_by_id(self, file_ids: list[str]) -> dict[str, StoredFile]:
        sql, params = bind(f"SELECT {FILE_COLUMNS} FROM files WHERE {{}}",
                           self._db.dialect.in_list("file_id", file_ids, "text"))
        return {f.file_id: f for f in map(file_from_row, await self._db.fetch(sql, *params))}

    async def bind_files(self, owner_id: int, file_ids: list[str], scope: str, now_ms: int) -> int:
        sql, params = bind(BIND, scope, now_ms, owner_id, self._db.dialect.in_list("file_id", file_ids, "text"))
        return await self._db.execute(sql, *params)

    async def set_file_ref(self, file_ids: list[str], ref: str) -> int:
        sql, params = bind(SET_REF, ref, self._db.dialect.in_list("file_id", file_ids, "text"))
        return await self._db.execute(sql, *params)

    async def release_files(self, ref: str, now_ms: int, purge_after_ms: int,
                            file_ids: Sequence[str] | None = None) -> int:
        if file_ids is None:
            return await self._db.execute(RELEASE, now_ms, purge_after_ms, ref)
        if not file_ids:
            return 0
        sql, params = bind(RELEASE + " AND {}", now_ms, purge_after_ms, ref,
                           self._db.dialect.in_list("file_id", list(file_ids), "text"))
        return await self._db.execute(sql, *params)

    async def drop_orphan_files(self, cutoff_ms: int, now_ms: int, purge_after_ms: int) -> int:
        return await self._db.execute(ORPHANS, now_ms, purge_after_ms, cutoff_ms)

    async def files_to_purge(self, now_ms: int, limit: int) -> list[StoredFile]:
        return [file_from_row(row) for row in await self._db.fetch(TO_PURGE, now_ms, limit)]

    async def forget_file(self, file_id: str) -> bool:
        return await self._db.execute(FORGET_FILE, file_id) == 1
