"""The file service (docs/protocol.md, "Files"; docs/decisions.md, "Resumable uploads"):
resumable uploads cut into parts, the type decided from the first bytes, the size cap and the
member's quota enforced while the bytes stream, previews, who may read a file (by its scope),
and the sweeper that every node runs.

Memory: an upload holds at most one part (ECOLINK_UPLOAD_PART_MB) in memory while it is
received; downloads stream from the blob store. The SHA-256 is computed while the bytes stream
(kept per upload on the node that received its parts in order; an upload continued on another
node is hashed once more from storage when it completes)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import secrets
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import structlog

from chat.blobs.port import BlobStore
from chat.clock import Clock, repeating
from chat.errors import (ChatError, Conflict, GuestScope, InvalidInput, NotFound, PayloadTooLarge,
                         QuotaExceeded, UnsupportedType, UploadOffsetMismatch)
from chat.files import kinds
from chat.files.names import safe_name
from chat.files.previews import MAX_SOURCE_BYTES, Previewer
from chat.files.shapes import file_json
from chat.logs import failure
from chat.models import FileKind, StoredFile, Upload, User
from chat.store.port import Store

log = structlog.get_logger("chat.files")

MAX_ATTACHMENTS = 10
SWEEP_BATCH = 200
FILE_ID = re.compile(r"^f-[A-Za-z0-9_-]{22}$")
UPLOAD_ID = re.compile(r"^u-[A-Za-z0-9_-]{22}$")
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
SCOPE = re.compile(r"^([a-z]+):([A-Za-z0-9_:.-]{1,120})$")
READ_CHUNK = 256 * 1024
# Joining a part's chunks and hashing it run in a thread from this size up.
JOIN_IN_THREAD = 1024 * 1024

ScopeCheck = Callable[[User, str], Awaitable[bool]]


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_urlsafe(16)}"  # 16 bytes: 22 URL-safe characters


def storage_key(folder: str) -> str:
    """A random object name: nothing of the file's name or owner reaches storage."""
    return f"{folder}/{secrets.token_urlsafe(24)}"


async def file_chunks(path: Path, size: int = READ_CHUNK) -> AsyncIterator[bytes]:
    """A local file's bytes, read in a thread chunk by chunk."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, size):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


class _Chunks:
    """A request's bytes as they came, until a part is full: the chunks are kept as they are
    and joined once per part, in a thread (bytes.join lets go of the GIL for big buffers), so
    the event loop copies nothing but the chunks the server hands it."""

    def __init__(self) -> None:
        self._chunks: deque[bytes] = deque()
        self.held = 0

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self.held += len(chunk)

    def head(self, n: int) -> bytes:
        """The first `n` bytes held (fewer when fewer are held)."""
        out = bytearray()
        for chunk in self._chunks:
            if len(out) >= n:
                break
            out += chunk[:n - len(out)]
        return bytes(out)

    def take(self, n: int) -> list[bytes]:
        """The first `n` bytes held (at most), as chunks, no longer held."""
        taken: list[bytes] = []
        got = 0
        while self._chunks and got < n:
            chunk = self._chunks[0]
            if got + len(chunk) <= n:
                taken.append(self._chunks.popleft())
                got += len(chunk)
            else:
                cut = n - got
                taken.append(chunk[:cut])
                self._chunks[0] = chunk[cut:]
                got = n
        self.held -= got
        return taken


async def joined(chunks: list[bytes]) -> bytes:
    """One part's chunks as one buffer, joined in a thread when big."""
    if len(chunks) == 1:
        return chunks[0]
    if sum(map(len, chunks)) < JOIN_IN_THREAD:
        return b"".join(chunks)
    return await asyncio.to_thread(b"".join, chunks)


async def hashed(hasher: Any, data: bytes) -> None:
    """`hasher.update(data)`, in a thread when big (hashlib lets go of the GIL)."""
    if len(data) < JOIN_IN_THREAD:
        hasher.update(data)
    else:
        await asyncio.to_thread(hasher.update, data)



class _Writer:
    """One request's bytes into an upload's parts: holds the chunks of one part, sniffs the
    first bytes, commits each full part (and the last one) to storage, then records it. The
    part is joined and hashed in threads while it is written, and at most `part_writes` parts
    are written at once per node (the others wait, holding their one part)."""

    def __init__(self, service: FileService, upload: Upload, hasher: Any) -> None:
        self.service = service
        self.upload = upload
        self.pos = upload.offset
        self.parts = list(upload.parts)
        self.mime, self.kind = upload.mime, upload.kind
        self.chunks = _Chunks()
        self.hasher = hasher

    def _sniff(self, whole: bool) -> None:
        found = kinds.sniff(self.chunks.head(kinds.SNIFF_BYTES), self.upload.name,
                            self.upload.claimed, whole=whole)
        self.mime, self.kind = found.mime, found.kind

    async def feed(self, chunk: bytes, limit: int, too_big: Callable[[], ChatError]) -> None:
        if self.pos + self.chunks.held + len(chunk) > limit:
            raise too_big()
        self.chunks.add(chunk)
        if self.kind is None and self.chunks.held >= kinds.SNIFF_BYTES:
            self._sniff(whole=False)
        part_size = self.upload.part_size
        while self.chunks.held >= part_size:
            await self._commit(part_size)

    async def end(self, final: bool) -> None:
        """The request's body ended: commit the last part when this is the end of the file
        (`final`); an unfinished part is dropped (the client sends it again)."""
        if final:
            if self.kind is None:
                self._sniff(whole=True)
            if self.chunks.held:
                await self._commit(self.chunks.held)

    async def _commit(self, length: int) -> None:
        number = self.pos // self.upload.part_size + 1
        u = self.upload
        service = self.service
        hasher = self.hasher.copy() if self.hasher is not None else None
        async with service.part_writes:
            data = await joined(self.chunks.take(length))
            if self.kind in ("text", "csv"):
                await asyncio.to_thread(kinds.check_text_part, data, first=self.pos == 0,
                                        last=self.pos + length == u.size)
            writing = service.blobs.put_part(u.storage_key, u.handle, number, self.pos, data)
            if hasher is not None:
                tag, _ = await asyncio.gather(writing, hashed(hasher, data))
            else:
                tag = await writing
        del data
        parts = [p for p in self.parts if p[0] != number] + [(number, tag)]
        expires = service.clock.now_ms() + service.expire_ms
        if not await service.store.commit_part(u.upload_id, self.pos, self.pos + length, parts,
                                               self.mime, self.kind, expires):
            current = await service.store.get_upload(u.upload_id)
            offset = current.offset if current is not None else self.pos
            raise UploadOffsetMismatch("another request moved this upload; ask for its offset",
                                       details={"offset": offset})
        self.hasher = hasher
        self.parts = parts
        self.pos += length


class FileService:
    def __init__(self, store: Store, blobs: BlobStore, clock: Clock, *, visible_room: Callable[[User, str], Awaitable[object]],
                 max_bytes: int, part_bytes: int, quota_bytes: int, expire_ms: int,
                 retention_ms: int, sweep_s: float, previews: int = 2, part_writes: int = 2) -> None:
        self.store = store
        self.blobs = blobs
        self.clock = clock
        self.max_bytes = max_bytes
        self.part_bytes = part_bytes
        self.quota_bytes = quota_bytes
        self.expire_ms = expire_ms
        self.retention_ms = retention_ms
        self._sweep_s = sweep_s
        self._previewer = Previewer(previews)
        # Parts being joined, hashed and written at once on this node (all uploads together).
        self.part_writes = asyncio.Semaphore(part_writes)
        self._rules: dict[str, ScopeCheck] = {}
        # upload id -> (the lock its PATCHes take on this node, how many hold or wait for it).
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # upload id -> (offset, SHA-256 of its bytes to there, when it was last fed), while its
        # parts arrive here in order; the sweeper forgets one untouched for the upload expiry
        # (its upload went on elsewhere, or was abandoned and swept by another node).
        self._hashers: dict[str, tuple[int, Any, int]] = {}
        self._visible_room = visible_room
        self.scope_rule("room", self._room_rule)
        self.scope_rule("project", self._member_rule)

    # -- access --------------------------------------------------------------------------

    def scope_rule(self, prefix: str, check: ScopeCheck) -> None:
        """Who may read files bound to "<prefix>:<id>": `check(user, id)`. The room rule
        (RoomService.visible_room) and the project rule (any non-guest member) are built in;
        the library registers "doc"."""
        self._rules[prefix] = check

    async def _room_rule(self, user: User, room_id: str) -> bool:
        try:
            await self._visible_room(user, room_id)
        except NotFound:
            return False
        return True

    async def _member_rule(self, user: User, _: str) -> bool:
        return user.guest_of is None

    async def readable(self, user: User, file_id: str) -> StoredFile:
        """The file if this user may read it (the uploader while unattached; else by scope),
        else NotFound — the same answer as for no such file."""
        f = await self.store.get_file(file_id) if FILE_ID.match(file_id) else None
        if f is None or f.state != "ready":
            raise NotFound("no such file")
        if f.scope is None:
            if f.owner_id == user.user_id:
                return f
            raise NotFound("no such file")
        prefix, _, rest = f.scope.partition(":")
        check = self._rules.get(prefix)
        if check is None or not await check(user, rest):
            raise NotFound("no such file")
        return f

    # -- binding to holders -------------------------------------------------------------

    async def attach(self, user: User, file_ids: Sequence[str], scope: str,
                     holder: str | None = None) -> list[dict[str, Any]]:
        """Bind the user's own ready, unattached files (max 10) to `scope` and return their
        wire dicts in the given order. scope: "room:<room_id>", "doc:<doc_id>" or
        "project:<project_id>". Files already bound to the same scope pass while no holder
        took them (a send that failed after attaching, or one retried meanwhile), or when
        their holder is `holder` (an edit keeping them); a file another holder shows is
        refused, so that releasing one holder never takes a file that another still shows.
        Anything else (someone else's, unknown, bound elsewhere, deleted, not ready) →
        InvalidInput with details {"attachments": "..."}."""
        ids = list(file_ids)
        if not ids:
            return []
        match = SCOPE.match(scope)
        if match is None or match.group(1) not in self._rules:
            raise InvalidInput("unknown scope", details={"attachments": "cannot be attached here"})
        if len(ids) > MAX_ATTACHMENTS or len(set(ids)) != len(ids) or \
                not all(isinstance(i, str) and FILE_ID.match(i) for i in ids):
            raise InvalidInput("attachments must be at most 10 distinct file ids",
                               details={"attachments": f"at most {MAX_ATTACHMENTS} distinct file ids"})
        found = await self.store.files_by_id(ids)
        unbound: list[str] = []
        for file_id in ids:
            f = found.get(file_id)
            if f is None or f.owner_id != user.user_id or f.state != "ready" or \
                    f.scope not in (None, scope) or f.ref not in (None, holder):
                raise InvalidInput("an attachment is not one of your uploaded files",
                                   details={"attachments": "each must be a file you uploaded and did not attach elsewhere"})
            if f.scope is None:
                unbound.append(file_id)
        if unbound:
            bound = await self.store.bind_files(user.user_id, unbound, scope, self.clock.now_ms())
            if bound != len(unbound):  # a concurrent attach took some elsewhere
                found = await self.store.files_by_id(ids)
                if any(found[i].scope != scope for i in ids if i in found) or len(found) != len(ids):
                    raise InvalidInput("an attachment was attached elsewhere meanwhile",
                                       details={"attachments": "each must be a file you uploaded and did not attach elsewhere"})
            else:
                now = self.clock.now_ms()
                found = {i: replace(f, scope=scope, bound_at_ms=now) if i in unbound else f
                         for i, f in found.items()}
        return [file_json(found[i]) for i in ids]

    async def bind_ref(self, file_ids: Sequence[str], ref: str) -> None:
        """Record what holds the files (e.g. "msg:<room>:<message_id>", "topic:<id>",
        "webinar:<id>", "doc:<doc_id>:<version>", "project:<id>"), after the holder committed.
        A file bound to a scope but with no ref after ECOLINK_UPLOAD_EXPIRE_HOURS is an orphan
        and is swept."""
        if file_ids:
            await self.store.set_file_ref(list(file_ids), ref)

    async def release(self, ref: str, file_ids: Sequence[str] | None = None) -> int:
        """The holder is deleted (or, with `file_ids`, dropped just those, as an edit of a
        webinar's description does): its files are gone from listings and downloads at once
        (state "deleted"); their bytes are removed after ECOLINK_FILE_RETENTION_DAYS. How many."""
        now = self.clock.now_ms()
        return await self.store.release_files(ref, now, now + self.retention_ms, file_ids)

    # -- reading -------------------------------------------------------------------------

    def stream(self, file: StoredFile, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The file's bytes [start, end) from storage, in chunks."""
        return self.blobs.read(file.storage_key, start, end)

    def preview(self, file: StoredFile) -> AsyncIterator[bytes]:
        if file.preview_key is None:
            raise NotFound("this file has no preview")
        return self.blobs.read(file.preview_key)

    # -- uploads ---------------------------------------------------------------------------

    def _may_upload(self, user: User) -> None:
        if user.guest_of is not None:
            raise GuestScope("a webinar's guest may not upload files")

    def _unlimited(self, user: User) -> bool:
        return user.role in ("moderator", "admin")

    async def _check_quota(self, user: User, size: int) -> None:
        if self._unlimited(user):
            return
        used = await self.store.bytes_in_use(user.user_id)
        if used + size > self.quota_bytes:
            raise QuotaExceeded("this file would take you past your storage quota",
                                details={"quota": self.quota_bytes, "used": used})

    async def _still_within_quota(self, user: User, upload: Upload, extra: int = 0) -> None:
        """Checked again once the upload's row (which reserves its size) is stored: uploads
        announced at the same moment (on any node) passed the first check together; now each
        sees the others, and one that takes the member past the quota is dropped (all of them,
        at worst, when they interleave: never more than the quota). `extra`: bytes stored
        beyond the row's size (a one-shot upload of unannounced length)."""
        if self._unlimited(user):
            return
        used = await self.store.bytes_in_use(user.user_id) + extra
        if used > self.quota_bytes:
            await self._abort(upload)
            raise QuotaExceeded("this file would take you past your storage quota",
                                details={"quota": self.quota_bytes, "used": used - upload.size - extra})

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"a file may have at most {self.max_bytes} bytes",
                               details={"max": self.max_bytes})

    def _check_name(self, raw_name: str, claimed: str | None) -> str:
        if not isinstance(raw_name, str) or not raw_name.strip():
            raise InvalidInput("a file needs a name", details={"name": "required"})
        name = safe_name(raw_name[:1000])
        ext = kinds.extension(name)
        if not any(ext in t.extensions for t in kinds.ALLOWED.values()):
            raise UnsupportedType("this type of file is not allowed: PDF, Office documents, images"
                                  " (PNG, JPEG, GIF, WebP), text, CSV and ZIP are",
                                  details={"extension": ext or None})
        if not kinds.claim_allowed(claimed):
            raise UnsupportedType("this type of file is not allowed", details={"claimed": kinds.normalise_claim(claimed)[:100]})
        return name

    async def create_upload(self, user: User, name: str, size: int, claimed: str | None = None,
                            key: str | None = None) -> Upload:
        """A new resumable upload (or, with a client key the member used before, that one)."""
        self._may_upload(user)
        if key is not None and not CLIENT_KEY.match(key):
            raise InvalidInput("the key must be 8-64 letters, digits or -_.:", details={"key": "8-64 of A-Z a-z 0-9 - _ . :"})
        if key is not None:
            earlier = await self.store.upload_by_key(user.user_id, key)
            if earlier is not None and earlier.expires_at_ms > self.clock.now_ms():
                return self._same_upload(earlier, size)
            if earlier is not None:  # expired, not swept yet: the key starts afresh
                if earlier.file_id is None:
                    await self._abort(earlier)
                else:
                    await self.store.delete_upload(earlier.upload_id)
        if type(size) is not int or size < 1:
            raise InvalidInput("size must be a positive number of bytes", details={"size": "at least 1"})
        if size > self.max_bytes:
            raise self._too_large()
        safe = self._check_name(name, claimed)
        await self._check_quota(user, size)
        now = self.clock.now_ms()
        blob_key = storage_key("o")
        handle = await self.blobs.start(blob_key)
        upload = Upload(new_id("u"), user.user_id, key, safe, kinds.normalise_claim(claimed) or None,
                        size, 0, self.part_bytes, (), blob_key, handle, None, None, now,
                        now + self.expire_ms)
        stored, created = await self.store.create_upload(upload)
        if not created:  # the same key, retried at the same time: one upload
            await self.blobs.abort(blob_key, handle)
            return self._same_upload(stored, size)
        await self._still_within_quota(user, stored)
        log.info("files.upload_created", upload=upload.upload_id, size=size)
        return stored

    def _same_upload(self, earlier: Upload, size: int) -> Upload:
        if earlier.size != size:
            raise Conflict("this key names another upload of yours", details={"key": "already used for another file"})
        return earlier

    async def own_upload(self, user: User, upload_id: str) -> Upload:
        """The user's own upload, live; NotFound for anyone else's, as for none."""
        upload = await self.store.get_upload(upload_id) if UPLOAD_ID.match(upload_id) else None
        if upload is None or upload.owner_id != user.user_id or upload.expires_at_ms <= self.clock.now_ms():
            raise NotFound("no such upload")
        return upload

    async def finished_file(self, upload: Upload) -> StoredFile | None:
        if upload.file_id is None:
            return None
        return await self.store.get_file(upload.file_id)

    async def cancel(self, user: User, upload_id: str) -> None:
        """Drop an unfinished upload and its stored parts (a finished one: just the record)."""
        upload = await self.own_upload(user, upload_id)
        if upload.file_id is None:
            await self.blobs.abort(upload.storage_key, upload.handle)
        await self.store.delete_upload(upload_id)
        self._hashers.pop(upload_id, None)

    async def patch(self, user: User, upload_id: str, offset: int,
                    body: AsyncIterator[bytes]) -> tuple[Upload, StoredFile | None]:
        """Take bytes from `offset` (which must be the upload's): each full part is stored and
        committed as it completes; the file is made when the last byte arrived. Returns the
        upload as it stands and the file when complete."""
        upload = await self.own_upload(user, upload_id)
        lock, users = self._locks.get(upload_id, (asyncio.Lock(), 0))
        self._locks[upload_id] = (lock, users + 1)
        try:
            async with lock:
                upload = await self.own_upload(user, upload_id)
                if upload.file_id is not None:
                    if offset != upload.size:
                        raise UploadOffsetMismatch("this upload is complete", details={"offset": upload.size})
                    return upload, await self.finished_file(upload)
                if offset != upload.offset:
                    raise UploadOffsetMismatch(f"this upload is at offset {upload.offset}",
                                               details={"offset": upload.offset})
                return await self._receive(upload, body)
        finally:
            lock, users = self._locks[upload_id]
            if users == 1:
                del self._locks[upload_id]
            else:
                self._locks[upload_id] = (lock, users - 1)

    def _hasher_at(self, upload: Upload) -> Any:
        if upload.offset == 0:
            return hashlib.sha256()
        held = self._hashers.get(upload.upload_id)
        return held[1] if held is not None and held[0] == upload.offset else None

    async def _receive(self, upload: Upload, body: AsyncIterator[bytes]) -> tuple[Upload, StoredFile | None]:
        writer = _Writer(self, upload, self._hasher_at(upload))

        def past_end() -> ChatError:
            return PayloadTooLarge("more bytes than the upload's size", details={"size": upload.size})

        try:
            async for chunk in body:
                if chunk:
                    await writer.feed(chunk, upload.size, past_end)
            await writer.end(final=writer.pos + writer.chunks.held == upload.size)
        except UnsupportedType:
            await self._abort(upload)
            raise
        finally:
            if writer.hasher is not None and writer.pos < upload.size:
                self._hashers[upload.upload_id] = (writer.pos, writer.hasher, self.clock.now_ms())
        now_upload = replace(upload, offset=writer.pos, parts=tuple(writer.parts), mime=writer.mime,
                             kind=writer.kind)
        if writer.pos < upload.size:
            return now_upload, None
        self._hashers.pop(upload.upload_id, None)
        file = await self._finish(now_upload, writer.hasher)
        return replace(now_upload, file_id=file.file_id), file

    async def _abort(self, upload: Upload) -> None:
        with contextlib.suppress(Exception):
            await self.blobs.abort(upload.storage_key, upload.handle)
        await self.store.delete_upload(upload.upload_id)
        self._hashers.pop(upload.upload_id, None)

    async def _finish(self, upload: Upload, hasher: Any) -> StoredFile:
        assert upload.mime is not None and upload.kind is not None
        await self.blobs.complete(upload.storage_key, upload.handle, sorted(upload.parts))
        sha256 = hasher.hexdigest() if hasher is not None else await self._hash_stored(upload.storage_key)
        file = await self._made_file(upload.owner_id, upload.name, upload.mime, upload.kind,
                                     upload.size, sha256, upload.storage_key)
        if not await self.store.finish_upload(upload.upload_id, file):
            if file.preview_key:
                await self.blobs.delete(file.preview_key)
            done = await self.store.get_upload(upload.upload_id)
            other = await self.finished_file(done) if done is not None else None
            if other is None:
                raise NotFound("no such upload")
            return other
        log.info("files.stored", file=file.file_id, kind=file.kind, size=file.size)
        return file

    async def _made_file(self, owner_id: int, name: str, mime: str, kind: FileKind, size: int,
                         sha256: str, key: str) -> StoredFile:
        preview_key, w, h = await self._make_preview(key, kind, size)
        return StoredFile(new_id("f"), owner_id, name, mime, kind, size, sha256, key,
                          preview_key=preview_key, preview_w=w, preview_h=h,
                          created_at_ms=self.clock.now_ms())

    async def _hash_stored(self, key: str) -> str:
        digest = hashlib.sha256()
        async for chunk in self.blobs.read(key):
            digest.update(chunk)
        return digest.hexdigest()

    async def _make_preview(self, key: str, kind: FileKind, size: int) -> tuple[str | None, int | None, int | None]:
        if kind not in ("image", "pdf") or size > MAX_SOURCE_BYTES:
            return None, None, None
        try:
            with tempfile.TemporaryDirectory(prefix="ecolink-preview-") as folder:
                path = Path(folder) / "source"
                with path.open("wb") as out:
                    async for chunk in self.blobs.read(key):
                        await asyncio.to_thread(out.write, chunk)
                preview = await self._previewer.make(kind, path, size)
            if preview is None:
                return None, None, None
            preview_key = storage_key("p")
            await self.blobs.put(preview_key, preview.webp, "image/webp")
            return preview_key, preview.width, preview.height
        except Exception as exc:
            log.warning("files.preview_failed", kind=kind, **failure(exc))
            return None, None, None

    async def ingest(self, owner: User, name: str, source: AsyncIterator[bytes] | Path,
                     claimed: str | None, size: int | None = None, key: str | None = None) -> StoredFile:
        """Store a whole file in one go (the one-shot route, ecolink import-library): the same
        checks as an upload (type, cap while streaming, quota), nothing left in storage when
        refused. `size`, when known, is checked before the first byte. With a client `key`
        the member used before for a stored file, that file (the body is not read)."""
        self._may_upload(owner)
        if key is not None:
            if not CLIENT_KEY.match(key):
                raise InvalidInput("the key must be 8-64 letters, digits or -_.:",
                                   details={"key": "8-64 of A-Z a-z 0-9 - _ . :"})
            earlier = await self.store.upload_by_key(owner.user_id, key)
            if earlier is not None:
                done = await self.finished_file(earlier)
                if done is not None and done.state == "ready":
                    return done
                if earlier.file_id is None:  # an upload under this key never finished: dropped
                    await self._abort(earlier)
                else:
                    await self.store.delete_upload(earlier.upload_id)
        if size is not None and size > self.max_bytes:
            raise self._too_large()
        safe = self._check_name(name, claimed)
        await self._check_quota(owner, size or 0)
        limit = self.max_bytes if self._unlimited(owner) else min(
            self.max_bytes, self.quota_bytes - await self.store.bytes_in_use(owner.user_id))
        chunks = file_chunks(source) if isinstance(source, Path) else source
        now = self.clock.now_ms()
        blob_key = storage_key("o")
        handle = await self.blobs.start(blob_key)
        # A row for the sweeper while the bytes arrive (a node that dies mid-way leaves none).
        upload = Upload(new_id("u"), owner.user_id, None, safe, kinds.normalise_claim(claimed) or None,
                        size if size is not None else 0, 0, self.part_bytes, (),
                        blob_key, handle, None, None, now, now + self.expire_ms)
        await self.store.create_upload(upload)
        digest = hashlib.sha256()
        parts: list[tuple[int, str]] = []
        held = _Chunks()
        pos = 0
        found: kinds.FileType | None = None

        def over() -> ChatError:
            if limit < self.max_bytes:
                return QuotaExceeded("this file would take you past your storage quota",
                                     details={"quota": self.quota_bytes})
            return self._too_large()

        async def put(length: int, last: bool = False) -> None:
            nonlocal pos
            number = len(parts) + 1
            async with self.part_writes:
                data = await joined(held.take(length))
                if found is not None and found.kind in ("text", "csv"):
                    await asyncio.to_thread(kinds.check_text_part, data, first=pos == 0, last=last)
                tag, _ = await asyncio.gather(self.blobs.put_part(blob_key, handle, number, pos, data),
                                              hashed(digest, data))
            parts.append((number, tag))
            pos += len(data)

        try:
            async for chunk in chunks:
                upto = pos + held.held + len(chunk)
                if upto > limit or (size is not None and upto > size):
                    raise over() if size is None or upto > limit else \
                        PayloadTooLarge("more bytes than announced", details={"size": size})
                held.add(chunk)
                if found is None and held.held >= kinds.SNIFF_BYTES:
                    found = kinds.sniff(held.head(kinds.SNIFF_BYTES), safe, claimed, whole=False)
                while held.held >= self.part_bytes:
                    await put(self.part_bytes)
            if found is None:
                found = kinds.sniff(held.head(kinds.SNIFF_BYTES), safe, claimed, whole=True)
            if held.held:
                await put(held.held, last=True)
            if size is not None and pos != size:
                raise InvalidInput("fewer bytes than announced", details={"size": size})
            # The row reserved `size` (0 when unannounced): the others' meanwhile count too.
            await self._still_within_quota(owner, upload, pos - upload.size)
            await self.blobs.complete(blob_key, handle, parts)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.blobs.abort(blob_key, handle)
            with contextlib.suppress(Exception):
                await self.store.delete_upload(upload.upload_id)
            raise
        try:
            file = await self._made_file(owner.user_id, safe, found.mime, found.kind, pos,
                                         digest.hexdigest(), blob_key)
            await self.store.add_file(file)
        except BaseException:
            with contextlib.suppress(Exception):
                await self.blobs.delete(blob_key)
            raise
        finally:
            with contextlib.suppress(Exception):
                await self.store.delete_upload(upload.upload_id)
        if key is not None:  # remembered until it expires, so a retried POST gets this file
            await self.store.create_upload(replace(
                upload, upload_id=new_id("u"), client_key=key, size=pos, offset=pos,
                parts=tuple(parts), mime=found.mime, kind=found.kind, file_id=file.file_id))
        log.info("files.stored", file=file.file_id, kind=file.kind, size=file.size)
        return file

    # -- the sweeper ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FileService]:
        """Every ECOLINK_FILE_SWEEP_S, sweep (every node does; each step is idempotent)."""
        async with repeating(self._sweep_s, self.sweep, "file-sweep", "files.sweep_failed"):
            yield self

    async def sweep(self) -> dict[str, int]:
        """Expired uploads aborted (their parts dropped); files bound to nothing (no ref)
        ECOLINK_UPLOAD_EXPIRE_HOURS after they were made or attached deleted at once; deleted
        files' bytes and previews removed once due. Counts of each."""
        now = self.clock.now_ms()
        counts = {"uploads": 0, "orphans": 0, "purged": 0}
        while expired := await self.store.expired_uploads(now, SWEEP_BATCH):
            for upload in expired:
                if upload.file_id is None:
                    await self.blobs.abort(upload.storage_key, upload.handle)
                if await self.store.delete_upload(upload.upload_id):
                    counts["uploads"] += 1
                self._hashers.pop(upload.upload_id, None)
            if len(expired) < SWEEP_BATCH:
                break
        stale = [i for i, (_, _, fed_ms) in self._hashers.items() if fed_ms <= now - self.expire_ms]
        for upload_id in stale:
            del self._hashers[upload_id]
        counts["orphans"] = await self.store.drop_orphan_files(now - self.expire_ms, now, now)
        while due := await self.store.files_to_purge(now, SWEEP_BATCH):
            for f in due:
                await self.blobs.delete(f.storage_key)
                if f.preview_key:
                    await self.blobs.delete(f.preview_key)
                if await self.store.forget_file(f.file_id):
                    counts["purged"] += 1
            if len(due) < SWEEP_BATCH:
                break
        if any(counts.values()):
            log.info("files.swept", **counts)
        return counts
