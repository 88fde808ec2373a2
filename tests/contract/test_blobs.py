"""The BlobStore contract (chat/blobs/port.py), run on the local folder and on S3 (moto's S3
server on loopback, reached over HTTP by aiobotocore): multipart uploads, ranges, deletes, keys.
Then what only one backend has: the local folder's layout and sharing, S3's start-up and keys."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from chat.blobs.local import LocalBlobs
from chat.blobs.open import open_blobs
from chat.blobs.port import BlobStore
from chat.config import Settings
from chat.errors import NotFound, Unavailable
from chat.logs import configure
from tests.support.services import S3Endpoint, ThrowawayS3, free_port

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part but the last


def pattern(size: int, seed: int = 0) -> bytes:
    """`size` bytes holding every byte value, different for each seed."""
    block = bytes((i * 7 + seed) % 256 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


async def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in store.read(key, start, end)])


async def upload(store: BlobStore, key: str, parts: list[bytes], order: list[int] | None = None) -> None:
    """Multipart upload of `parts` (sent in `order`, 0-based), completed."""
    handle = await store.start(key)
    offsets = [sum(len(p) for p in parts[:i]) for i in range(len(parts))]
    tags: list[tuple[int, str]] = []
    for i in order if order is not None else range(len(parts)):
        tags.append((i + 1, await store.put_part(key, handle, i + 1, offsets[i], parts[i])))
    await store.complete(key, handle, tags)


# --- the contract, on both backends ----------------------------------------------------


async def test_parts_sent_out_of_order_join_in_number_order(blobs: BlobStore) -> None:
    parts = [pattern(PART, 1), pattern(PART, 2), pattern(12345, 3)]
    handle = await blobs.start("obj-1")
    tags = {}
    for number, offset in ((3, 2 * PART), (1, 0), (2, PART)):
        tags[number] = await blobs.put_part("obj-1", handle, number, offset, parts[number - 1])
    assert await blobs.size("obj-1") is None, "nothing is readable before complete"
    with pytest.raises(NotFound):
        await read_all(blobs, "obj-1")
    await blobs.complete("obj-1", handle, [(2, tags[2]), (3, tags[3]), (1, tags[1])])
    assert await blobs.size("obj-1") == 2 * PART + 12345
    assert await read_all(blobs, "obj-1") == b"".join(parts)


async def test_a_part_sent_again_replaces_the_first_copy(blobs: BlobStore) -> None:
    handle = await blobs.start("resent")
    first = await blobs.put_part("resent", handle, 1, 0, pattern(PART, 1))
    again = await blobs.put_part("resent", handle, 1, 0, pattern(PART, 9))
    await blobs.put_part("resent", handle, 2, PART, b"long last part " * 300)
    last = await blobs.put_part("resent", handle, 2, PART, b"short last part")
    assert isinstance(first, str) and isinstance(again, str)
    await blobs.complete("resent", handle, [(1, again), (2, last)])
    assert await read_all(blobs, "resent") == pattern(PART, 9) + b"short last part"
    assert await blobs.size("resent") == PART + len(b"short last part")


async def test_complete_sent_again_changes_nothing(blobs: BlobStore) -> None:
    handle = await blobs.start("twice")
    tag = await blobs.put_part("twice", handle, 1, 0, b"once")
    await blobs.complete("twice", handle, [(1, tag)])
    await blobs.complete("twice", handle, [(1, tag)])
    assert await read_all(blobs, "twice") == b"once"


async def test_an_upload_of_no_parts_is_an_empty_object(blobs: BlobStore) -> None:
    handle = await blobs.start("empty")
    await blobs.complete("empty", handle, [])
    assert await blobs.size("empty") == 0
    assert await read_all(blobs, "empty") == b""


async def test_abort_throws_the_upload_away(blobs: BlobStore) -> None:
    handle = await blobs.start("aborted")
    tag = await blobs.put_part("aborted", handle, 1, 0, b"partial")
    await blobs.abort("aborted", handle)
    await blobs.abort("aborted", handle)  # idempotent
    assert await blobs.size("aborted") is None
    with pytest.raises(NotFound):
        await read_all(blobs, "aborted")
    # A part or a complete sent after the abort: NotFound on the local folder (S3's and MinIO's
    # NoSuchUpload maps to it too, but moto 5 answers 500 there): see
    # test_local_part_or_complete_after_abort_is_not_found.
    assert tag


async def test_two_uploads_of_one_key_do_not_mix(blobs: BlobStore) -> None:
    """A retried start gets a handle of its own; the abandoned one can be aborted apart."""
    stale = await blobs.start("restarted")
    await blobs.put_part("restarted", stale, 1, 0, b"stale bytes, longer than the fresh ones")
    fresh = await blobs.start("restarted")
    assert fresh != stale
    tag = await blobs.put_part("restarted", fresh, 1, 0, b"fresh")
    await blobs.abort("restarted", stale)
    await blobs.complete("restarted", fresh, [(1, tag)])
    assert await read_all(blobs, "restarted") == b"fresh"


async def test_a_tag_the_store_never_gave_is_refused(blobs: BlobStore) -> None:
    handle = await blobs.start("bad-tag")
    await blobs.put_part("bad-tag", handle, 1, 0, b"bytes")
    with pytest.raises(ValueError):
        await blobs.complete("bad-tag", handle, [(1, "not-a-tag")])
    assert await blobs.size("bad-tag") is None
    await blobs.abort("bad-tag", handle)


async def test_ranges(blobs: BlobStore) -> None:
    data = pattern(PART + 1000, 5)
    await upload(blobs, "ranged", [data[:PART], data[PART:]])
    size = len(data)
    cases = [(0, 10), (10, 20), (PART - 3, PART + 3), (5, None), (size - 1, size), (0, size),
             (0, None), (7, 7)]
    for start, end in cases:
        assert await read_all(blobs, "ranged", start, end) == data[start:end], (start, end)
    assert await read_all(blobs, "ranged", size - 5, size + 100) == data[-5:], "an end past the object is cut"
    assert await read_all(blobs, "ranged", size, None) == b""
    assert await read_all(blobs, "ranged", size + 10, None) == b""
    for start, end in ((-1, 5), (10, 5)):
        with pytest.raises(ValueError):
            await read_all(blobs, "ranged", start, end)


async def test_bytes_of_any_kind_come_back_unchanged(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 4 + b"\x00\xff\xfe" + "城市更新 ☃".encode("utf-16") + b"\xc3\x28\r\n\r\n"
    await blobs.put("any-bytes", data, "application/octet-stream")
    assert await read_all(blobs, "any-bytes") == data
    await upload(blobs, "any-bytes-2", [data])
    assert await read_all(blobs, "any-bytes-2") == data


async def test_put_stores_and_replaces_a_whole_object(blobs: BlobStore) -> None:
    await blobs.put("previews/p1", b"first", "image/webp")
    await blobs.put("previews/p1", b"second version", "image/webp")
    assert await read_all(blobs, "previews/p1") == b"second version"
    assert await blobs.size("previews/p1") == len(b"second version")


async def test_keys_with_and_without_a_folder_are_different_objects(blobs: BlobStore) -> None:
    await blobs.put("ab", b"plain", "text/plain")
    await blobs.put("ab/cd", b"in a folder", "text/plain")
    await blobs.put("ab/ab", b"another", "text/plain")
    await upload(blobs, "cd", [b"multipart"])
    assert await read_all(blobs, "ab") == b"plain"
    assert await read_all(blobs, "ab/cd") == b"in a folder"
    assert await read_all(blobs, "ab/ab") == b"another"
    assert await read_all(blobs, "cd") == b"multipart"
    assert await blobs.size("x" * 100) is None


async def test_delete_is_idempotent(blobs: BlobStore) -> None:
    await blobs.put("doomed", b"bytes", "text/plain")
    await blobs.delete("doomed")
    assert await blobs.size("doomed") is None
    with pytest.raises(NotFound):
        await read_all(blobs, "doomed")
    await blobs.delete("doomed")
    await blobs.delete("never-there")


async def test_missing_objects(blobs: BlobStore) -> None:
    assert await blobs.size("missing") is None
    with pytest.raises(NotFound):
        await read_all(blobs, "missing")
    with pytest.raises(NotFound):
        await read_all(blobs, "missing", 0, 0)
    with pytest.raises(NotFound):
        await read_all(blobs, "missing", 5, 10)


BAD_KEYS = ["", "../etc/passwd", "a/../../b", "/abs", "a/", "/a", "a/b/c", "a b", "a.b", "..",
            "城市更新", "key\x00", "key\n", "a\\b", "%2e%2e", "x" * 101, "a//b", "~root"]


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        await blobs.start(key)
    with pytest.raises(ValueError):
        await blobs.put_part(key, "0" * 32, 1, 0, b"x")
    with pytest.raises(ValueError):
        await blobs.complete(key, "0" * 32, [])
    with pytest.raises(ValueError):
        await blobs.abort(key, "0" * 32)
    with pytest.raises(ValueError):
        await blobs.put(key, b"x", "text/plain")
    with pytest.raises(ValueError):
        await read_all(blobs, key)
    with pytest.raises(ValueError):
        await blobs.size(key)
    with pytest.raises(ValueError):
        await blobs.delete(key)


async def test_the_longest_key_and_every_allowed_character_work(blobs: BlobStore) -> None:
    keys = ["k" * 100, "ABCxyz019_-", "f/" + "F" * 98]
    for key in keys:
        await blobs.put(key, key.encode(), "text/plain")
    for key in keys:
        assert await read_all(blobs, key) == key.encode()


async def test_a_64_mib_object_streams_in_bounded_chunks(blobs: BlobStore) -> None:
    part_size, count = 8 * MiB, 8
    expected = hashlib.sha256()
    handle = await blobs.start("big")
    tags = []
    for number in range(1, count + 1):
        part = pattern(part_size, number)
        expected.update(part)
        tags.append((number, await blobs.put_part("big", handle, number, (number - 1) * part_size, part)))
        del part
    await blobs.complete("big", handle, tags)
    assert await blobs.size("big") == 64 * MiB
    got = hashlib.sha256()
    sizes = []
    async for chunk in blobs.read("big"):
        sizes.append(len(chunk))
        got.update(chunk)
    assert got.hexdigest() == expected.hexdigest()
    assert sum(sizes) == 64 * MiB
    assert max(sizes) <= 256 * 1024, "read must stream in chunks, never the whole object"
    assert len(sizes) >= 256


async def test_ping_answers(blobs: BlobStore) -> None:
    await blobs.ping()
    assert blobs.kind in ("local", "s3")


# --- the local folder -------------------------------------------------------------------


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_local_layout_and_nothing_left_in_tmp(tmp_path: Path) -> None:
    store = LocalBlobs(tmp_path / "files")
    await store.prepare()
    await upload(store, "abcdef", [b"one", b"two"])
    await store.put("pv/xyz", b"preview", "image/webp")
    handle = await store.start("gone")
    await store.put_part("gone", handle, 1, 0, b"x")
    await store.abort("gone", handle)
    assert files_under(tmp_path / "files") == ["objects/ab/abcdef", "objects/pv/pv.xyz"]
    assert (tmp_path / "files" / "objects" / "ab" / "abcdef").read_bytes() == b"onetwo"


async def test_local_upload_in_progress_is_a_file_in_tmp(tmp_path: Path) -> None:
    store = LocalBlobs(tmp_path)
    await store.prepare()
    handle = await store.start("wip")
    await store.put_part("wip", handle, 2, 10, b"second")
    assert files_under(tmp_path) == [f"tmp/wip.{handle}"]
    assert (tmp_path / "tmp" / f"wip.{handle}").stat().st_size == 16


async def test_local_nodes_sharing_a_folder_continue_each_others_uploads(tmp_path: Path) -> None:
    node_a, node_b = LocalBlobs(tmp_path), LocalBlobs(tmp_path)
    await node_a.prepare()
    handle = await node_a.start("shared")
    tag1 = await node_a.put_part("shared", handle, 1, 0, b"from a, ")
    tag2 = await node_b.put_part("shared", handle, 2, 8, b"from b")
    await node_b.complete("shared", handle, [(1, tag1), (2, tag2)])
    assert await read_all(node_a, "shared") == b"from a, from b"
    await node_a.delete("shared")
    assert await node_b.size("shared") is None


async def test_local_part_or_complete_after_abort_is_not_found(tmp_path: Path) -> None:
    store = LocalBlobs(tmp_path)
    await store.prepare()
    handle = await store.start("aborted")
    tag = await store.put_part("aborted", handle, 1, 0, b"early")
    await store.abort("aborted", handle)
    with pytest.raises(NotFound):
        await store.put_part("aborted", handle, 2, 5, b"late")
    with pytest.raises(NotFound):
        await store.complete("aborted", handle, [(1, tag)])
    assert files_under(tmp_path) == []


async def test_local_parts_with_a_gap_are_refused(tmp_path: Path) -> None:
    store = LocalBlobs(tmp_path)
    await store.prepare()
    handle = await store.start("gappy")
    tag1 = await store.put_part("gappy", handle, 1, 0, b"12345")
    tag3 = await store.put_part("gappy", handle, 3, 10, b"12345")
    with pytest.raises(ValueError):
        await store.complete("gappy", handle, [(1, tag1), (3, tag3)])
    assert await store.size("gappy") is None


@pytest.mark.parametrize("handle", ["", "../../x", "0" * 31, "g" * 32, "0" * 32 + "/x"])
async def test_local_refuses_handles_it_never_gave(tmp_path: Path, handle: str) -> None:
    store = LocalBlobs(tmp_path)
    await store.prepare()
    with pytest.raises(ValueError):
        await store.put_part("key", handle, 1, 0, b"x")
    with pytest.raises(ValueError):
        await store.abort("key", handle)
    assert files_under(tmp_path) == []


async def test_local_ping_fails_when_the_folder_is_gone(tmp_path: Path) -> None:
    store = LocalBlobs(tmp_path / "files")
    await store.prepare()
    (tmp_path / "files" / "tmp").rmdir()
    with pytest.raises(OSError):
        await store.ping()


# --- choosing the backend, S3 start-up, secrets -----------------------------------------


async def test_open_blobs_picks_the_local_folder_by_default(make_settings: Callable[..., Settings],
                                                            tmp_path: Path) -> None:
    settings = make_settings()
    async with open_blobs(settings) as store:
        assert store.kind == "local"
        await store.put("k", b"v", "text/plain")
    assert (tmp_path / "data" / "files" / "objects" / "k" / "k").read_bytes() == b"v"
    async with open_blobs(make_settings(files_dir=tmp_path / "elsewhere")) as store:
        await store.put("k", b"w", "text/plain")
    assert (tmp_path / "elsewhere" / "objects" / "k" / "k").read_bytes() == b"w"


async def test_open_blobs_picks_s3_and_creates_the_bucket(make_settings: Callable[..., Settings],
                                                          s3_settings: dict[str, object]) -> None:
    async with open_blobs(make_settings(**s3_settings)) as store:
        assert store.kind == "s3"
        await store.ping()
        await store.put("k", b"v", "text/plain")
    async with open_blobs(make_settings(**s3_settings, s3_create_bucket=False)) as again:
        assert await read_all(again, "k") == b"v", "the bucket is kept and reused"


async def test_a_missing_bucket_fails_start_up_when_creation_is_off(
        make_settings: Callable[..., Settings], s3_settings: dict[str, object]) -> None:
    with pytest.raises(Unavailable):
        async with open_blobs(make_settings(**s3_settings, s3_create_bucket=False)):
            pass


async def test_an_unreachable_store_fails_without_showing_the_secret(
        make_settings: Callable[..., Settings], s3_endpoint: S3Endpoint) -> None:
    secret = "sEcReT-that-must-never-show-9f3a"
    settings = make_settings(s3_url=f"http://127.0.0.1:{free_port()}", s3_access_key="AKIAEXAMPLE",
                             s3_secret_key=secret)
    assert secret not in repr(settings) and secret not in str(settings.model_dump())
    with pytest.raises(Unavailable) as caught:
        async with open_blobs(settings):
            pass
    text = "".join(repr(e) + str(e) for e in _chain(caught.value))
    assert secret not in text
    assert "head_bucket" in str(caught.value)


async def test_s3_bodies_go_unsigned_with_a_content_md5(s3_endpoint: S3Endpoint, s3_bucket: str) -> None:
    """No SHA-256 of each body on the event loop: UNSIGNED-PAYLOAD, and a Content-MD5 (hashed
    in a thread) that the store checks."""
    from chat.blobs.s3 import S3Blobs

    sent: list[tuple[str, dict[str, bytes]]] = []

    def capture(request: object, **kwargs: object) -> None:
        sent.append((str(kwargs.get("event_name")), dict(request.headers)))  # type: ignore[attr-defined]

    async with S3Blobs.open(s3_endpoint.url, bucket=s3_bucket, access_key=s3_endpoint.access_key,
                            secret_key=s3_endpoint.secret_key) as store:
        store._client.meta.events.register("before-send.s3", capture)
        await store.put("small", b"tiny", "text/plain")
        await upload(store, "big", [pattern(PART, 1), b"end"])
        assert await read_all(store, "big") == pattern(PART, 1) + b"end"
    bodies = [(event, headers) for event, headers in sent
              if event.endswith(("PutObject", "UploadPart"))]
    assert len(bodies) == 3, [event for event, _ in sent]
    for event, headers in bodies:
        assert headers.get("X-Amz-Content-SHA256") == b"UNSIGNED-PAYLOAD", event
        assert headers.get("Content-MD5"), event


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_debug_logging_shows_no_keys_and_no_file_contents(blobs: BlobStore) -> None:
    """botocore logs request parameters, signed headers and bodies at DEBUG: chat.logs keeps
    it (and every payload logger) at INFO even with ECOLINK_LOG_LEVEL=debug."""
    configure("debug", json_lines=True)
    records = Records()
    logging.getLogger().addHandler(records)
    try:
        await blobs.put("logged", b"file-contents-9d1c", "text/plain")
        assert await read_all(blobs, "logged") == b"file-contents-9d1c"
        await upload(blobs, "logged-2", [b"file-contents-9d1c"])
        logging.getLogger("chat.test").debug("debug records do pass")
    finally:
        logging.getLogger().removeHandler(records)
        configure("warning")
    assert any(r.name == "chat.test" for r in records.records), "the handler saw nothing"
    text = "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in records.records)
    assert "file-contents-9d1c" not in text
    assert ThrowawayS3.secret_key not in text and "Credential=" not in text
    assert not [r for r in records.records if r.name.startswith(("botocore", "aiobotocore"))
                and r.levelno < logging.INFO]


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


@pytest.mark.parametrize("url", ["ftp://host", "s3://bucket", "http://key:secret@host:9000"])
def test_s3_url_setting_is_checked(make_settings: Callable[..., Settings], url: str) -> None:
    with pytest.raises(ValueError) as caught:
        make_settings(s3_url=url)
    assert "must" in str(caught.value)


@pytest.mark.parametrize("bucket", ["", "ab", "Ecolink", "eco_link", "-ecolink", "x" * 64, "城市"])
def test_s3_bucket_setting_is_checked(make_settings: Callable[..., Settings], bucket: str) -> None:
    with pytest.raises(ValueError):
        make_settings(s3_bucket=bucket)


def test_files_dir_defaults_under_the_data_dir(make_settings: Callable[..., Settings], tmp_path: Path) -> None:
    assert make_settings().files_path == tmp_path / "data" / "files"
    assert make_settings(files_dir=tmp_path / "f").files_path == tmp_path / "f"
    assert make_settings(s3_secret_key="").s3_secret_key is None
