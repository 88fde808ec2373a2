"""The local-folder BlobStore: the embedded default (ECOLINK_FILES_DIR).

Layout under the root (docs/operations.md, "Files and storage"):

- `tmp/<name>.<handle>`: an unfinished upload, one sparse file each part is written into at
  its offset (os.pwrite) and flushed to disk (fdatasync) before put_part returns, so a part sent
  again simply overwrites itself and a stored part survives a crash;
- `objects/<name[:2]>/<name>`: finished objects, moved there by one atomic rename after an
  fsync (little left to flush by then), so a reader sees the whole object or none.

`<name>` is the key with its '/' written as '.' (keys never hold '.'), which keeps one file
per key with no file/folder clashes between "ab" and "ab/cd". Nothing lives in memory: several
nodes may share the root (a network folder), and any of them may take the next part, complete,
read or delete. All file work runs in threads (asyncio.to_thread); memory per upload is the
part being written, per download one chunk.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

from chat.blobs.port import check_key, check_range
from chat.errors import NotFound

CHUNK = 256 * 1024
_HANDLE = re.compile(r"[0-9a-f]{32}")


class LocalBlobs:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        self._objects = self.root / "objects"

    def __repr__(self) -> str:
        return f"LocalBlobs({str(self.root)!r})"

    async def prepare(self) -> None:
        """Create the folders (start-up; idempotent)."""
        await asyncio.to_thread(self._prepare)

    def _prepare(self) -> None:
        self._tmp.mkdir(parents=True, exist_ok=True)
        self._objects.mkdir(parents=True, exist_ok=True)

    # -- paths -----------------------------------------------------------------------------

    def _object_path(self, key: str) -> Path:
        name = check_key(key).replace("/", ".")
        return self._objects / name[:2] / name

    def _upload_path(self, key: str, handle: str) -> Path:
        name = check_key(key).replace("/", ".")
        if not isinstance(handle, str) or not _HANDLE.fullmatch(handle):
            raise ValueError("not an upload handle of this store")
        return self._tmp / f"{name}.{handle}"

    # -- multipart -------------------------------------------------------------------------

    async def start(self, key: str) -> str:
        handle = secrets.token_hex(16)
        path = self._upload_path(key, handle)
        await asyncio.to_thread(self._create, path)
        return handle

    def _create(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.close(fd)

    async def put_part(self, key: str, handle: str, number: int, offset: int, data: bytes) -> str:
        path = self._upload_path(key, handle)
        if number < 1 or offset < 0:
            raise ValueError("part numbers start at 1 and offsets at 0")
        await asyncio.to_thread(self._write_at, path, offset, data)
        # The tag says where the part lies, so complete can check the parts join up.
        return f"{offset}-{len(data)}"

    def _write_at(self, path: Path, offset: int, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            raise NotFound("no such upload (completed or aborted)") from None
        try:
            view = memoryview(data)
            while view:
                written = os.pwrite(fd, view, offset)
                view = view[written:]
                offset += written
            # On disk before the file service commits the part (moves the upload's offset past
            # it): a crash never loses a part the database says is stored. It also spreads the
            # writeback over the upload rather than one flush of the whole file at complete,
            # which stalled the database's commits on the same disk.
            _datasync(fd)
        finally:
            os.close(fd)

    async def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None:
        source = self._upload_path(key, handle)
        target = self._object_path(key)
        total = _joined_size(parts)
        await asyncio.to_thread(self._finish, source, target, total)

    def _finish(self, source: Path, target: Path, total: int) -> None:
        try:
            fd = os.open(source, os.O_WRONLY)
        except FileNotFoundError:
            if target.exists():
                return  # completed already (a retried complete)
            raise NotFound("no such upload (completed or aborted)") from None
        try:
            os.ftruncate(fd, total)  # a longer earlier copy of the last part leaves nothing
            os.fsync(fd)
        finally:
            os.close(fd)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        _fsync_dir(target.parent)

    async def abort(self, key: str, handle: str) -> None:
        path = self._upload_path(key, handle)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    # -- whole objects ---------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self._object_path(key)
        temp = self._tmp / f"{target.name}.{secrets.token_hex(16)}"
        await asyncio.to_thread(self._put, temp, target, data)

    def _put(self, temp: Path, target: Path, data: bytes) -> None:
        temp.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(temp, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._object_path(key)
        check_range(start, end)
        try:
            fd = await asyncio.to_thread(os.open, path, os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound("no such object") from None
        try:
            size = os.fstat(fd).st_size
            stop = size if end is None else min(end, size)
            position = start
            while position < stop:
                chunk = await asyncio.to_thread(os.pread, fd, min(CHUNK, stop - position), position)
                if not chunk:
                    break  # shortened under us: end here rather than loop
                position += len(chunk)
                yield chunk
        finally:
            os.close(fd)

    async def size(self, key: str) -> int | None:
        path = self._object_path(key)
        try:
            stat = await asyncio.to_thread(os.stat, path)
        except FileNotFoundError:
            return None
        return stat.st_size

    async def delete(self, key: str) -> None:
        path = self._object_path(key)
        await asyncio.to_thread(path.unlink, missing_ok=True)

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping)

    def _ping(self) -> None:
        for folder in (self._objects, self._tmp):
            if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
                raise OSError(f"{folder} is not a writable folder")

    async def close(self) -> None:
        return None


def _joined_size(parts: list[tuple[int, str]]) -> int:
    """The object's size from the parts' tags, or ValueError when they leave gaps or overlap."""
    position = 0
    for _, tag in sorted(parts):
        try:
            offset_text, length_text = tag.split("-")
            offset, length = int(offset_text), int(length_text)
        except ValueError:
            raise ValueError("not a part tag of this store") from None
        if offset != position:
            raise ValueError("parts do not join up: a gap or an overlap")
        position += length
    return position


_datasync = getattr(os, "fdatasync", os.fsync)  # macOS has no fdatasync


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
