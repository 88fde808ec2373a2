"""The S3 BlobStore: any S3-compatible object store (MinIO, AWS S3, Ceph RGW, OSS/COS in S3
mode), through aiobotocore; the only module that imports it (docs/decisions.md, "File storage").

Uploads are S3 multipart uploads, one S3 part per port part (the file service's part size is at
least 5 MiB, S3's minimum for all parts but the last). Reads stream the object's body (with a
Range header for a byte range) in chunks of at most CHUNK bytes. Addressing is path-style
(http://host/bucket/key), which MinIO and every S3 look-alike accept without DNS per bucket.

Credentials go to botocore only: never into a log line, an error message or repr().
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import structlog
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from chat.blobs.port import check_key, check_range
from chat.errors import NotFound, Unavailable

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

log = structlog.get_logger("chat.blobs.s3")

CHUNK = 256 * 1024
_MISSING = {"404", "NoSuchKey", "NoSuchUpload", "NoSuchBucket", "NotFound"}
# The caller's mistake, not the store's: ValueError, as the local backend says it.
_BAD_PARTS = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


async def _md5(data: bytes) -> str:
    """Content-MD5 of a body: the store refuses a body damaged on the way. Big ones are hashed
    in a thread (hashlib lets go of the GIL), so the event loop never waits on it."""
    if len(data) < 64 * 1024:
        return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    digest = await asyncio.to_thread(lambda: hashlib.md5(data, usedforsecurity=False).digest())
    return base64.b64encode(digest).decode()


def _failed(operation: str, exc: Exception) -> Unavailable:
    """The error a caller sees for a store failure: the operation and S3's error code only."""
    code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
    return Unavailable(f"file storage failed ({operation}: {code})")


class S3Blobs:
    kind = "s3"

    def __init__(self, client: S3Client, bucket: str, endpoint: str) -> None:
        self._client = client
        self.bucket = bucket
        self.endpoint = endpoint

    def __repr__(self) -> str:
        return f"S3Blobs({self.endpoint!r}, bucket={self.bucket!r})"

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        endpoint: str,
        *,
        bucket: str,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        create_bucket: bool = True,
        max_connections: int = 32,
    ) -> AsyncIterator[S3Blobs]:
        """A client for `bucket` at `endpoint`; the bucket is checked (created when missing and
        `create_bucket`) before this yields, so a wrong endpoint or key fails start-up."""
        config = AioConfig(
            region_name=region,
            signature_version="s3v4",
            # No SHA-256 of each body on the event loop (botocore signs payloads over plain
            # http: 10-20 ms per 8 MiB part): bodies go UNSIGNED-PAYLOAD with a Content-MD5
            # computed in a thread, which the store checks (docs/decisions.md, "File storage").
            s3={"addressing_style": "path", "payload_signing_enabled": False},
            retries={"max_attempts": 4, "mode": "standard"},
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=max_connections,
            # Checksums only where S3 requires them: stores that speak an older S3 dialect
            # (MinIO releases before 2025, Ceph, OSS) refuse the newer default trailers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = get_session()
        async with session.create_client(
            "s3",
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        ) as client:
            store = cls(client, bucket, endpoint)
            await store._ensure_bucket(region, create_bucket)
            yield store

    async def _ensure_bucket(self, region: str, create: bool) -> None:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise _failed("head_bucket", exc) from exc
        except BotoCoreError as exc:
            raise _failed("head_bucket", exc) from exc
        if not create:
            raise Unavailable(f"bucket {self.bucket!r} does not exist (ECOLINK_S3_CREATE_BUCKET is off)")
        try:
            if region == "us-east-1":
                await self._client.create_bucket(Bucket=self.bucket)
            else:
                await self._client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
                )
            log.info("blobs.bucket_created", bucket=self.bucket, endpoint=self.endpoint)
        except ClientError as exc:
            if _code(exc) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise _failed("create_bucket", exc) from exc
        except BotoCoreError as exc:
            raise _failed("create_bucket", exc) from exc

    # -- multipart -------------------------------------------------------------------------

    async def start(self, key: str) -> str:
        check_key(key)
        try:
            response = await self._client.create_multipart_upload(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _failed("create_multipart_upload", exc) from exc
        return response["UploadId"]

    async def put_part(self, key: str, handle: str, number: int, offset: int, data: bytes) -> str:
        check_key(key)
        if number < 1 or offset < 0:
            raise ValueError("part numbers start at 1 and offsets at 0")
        try:
            response = await self._client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=handle, PartNumber=number, Body=data,
                ContentMD5=await _md5(data),
            )
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise NotFound("no such upload (completed or aborted)") from None
            raise _failed("upload_part", exc) from exc
        except BotoCoreError as exc:
            raise _failed("upload_part", exc) from exc
        return response["ETag"]

    async def complete(self, key: str, handle: str, parts: list[tuple[int, str]]) -> None:
        check_key(key)
        if not parts:
            # S3 wants at least one part; an empty object is a plain empty put.
            await self.put(key, b"", "application/octet-stream")
            await self.abort(key, handle)
            return
        numbers = [number for number, _ in parts]
        if len(set(numbers)) != len(numbers):
            raise ValueError("a part number appears twice")
        try:
            await self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=handle,
                MultipartUpload={
                    "Parts": [{"PartNumber": number, "ETag": tag} for number, tag in sorted(parts)]
                },
            )
        except ClientError as exc:
            if _code(exc) in _BAD_PARTS:
                raise ValueError("parts do not join up: unknown, too small or out of order") from None
            if _code(exc) in _MISSING:
                if await self.size(key) is not None:
                    return  # completed already (a retried complete)
                raise NotFound("no such upload (completed or aborted)") from None
            raise _failed("complete_multipart_upload", exc) from exc
        except BotoCoreError as exc:
            raise _failed("complete_multipart_upload", exc) from exc

    async def abort(self, key: str, handle: str) -> None:
        check_key(key)
        try:
            await self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=handle)
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise _failed("abort_multipart_upload", exc) from exc
        except BotoCoreError as exc:
            raise _failed("abort_multipart_upload", exc) from exc

    # -- whole objects ---------------------------------------------------------------------

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        check_key(key)
        try:
            await self._client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                ContentMD5=await _md5(data),
            )
        except (ClientError, BotoCoreError) as exc:
            raise _failed("put_object", exc) from exc

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        check_key(key)
        check_range(start, end)
        if end is not None and start == end:
            if await self.size(key) is None:
                raise NotFound("no such object")
            return
        extra: dict[str, Any] = {}
        if start or end is not None:
            extra["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await self._client.get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                raise NotFound("no such object") from None
            if code == "InvalidRange":
                return  # start at or past the end: nothing to send
            raise _failed("get_object", exc) from exc
        except BotoCoreError as exc:
            raise _failed("get_object", exc) from exc
        body = response["Body"]
        try:
            while True:
                try:
                    chunk = await body.read(CHUNK)
                except (ClientError, BotoCoreError) as exc:
                    raise _failed("get_object", exc) from exc
                except OSError as exc:  # the connection dropped mid-body (aiohttp)
                    raise _failed("get_object", exc) from exc
                if not chunk:
                    break
                yield chunk
        finally:
            body.close()

    async def size(self, key: str) -> int | None:
        check_key(key)
        try:
            response = await self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return None
            raise _failed("head_object", exc) from exc
        except BotoCoreError as exc:
            raise _failed("head_object", exc) from exc
        return int(response["ContentLength"])

    async def delete(self, key: str) -> None:
        check_key(key)
        try:
            await self._client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) not in _MISSING:
                raise _failed("delete_object", exc) from exc
        except BotoCoreError as exc:
            raise _failed("delete_object", exc) from exc

    async def ping(self) -> None:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except (ClientError, BotoCoreError) as exc:
            raise _failed("head_bucket", exc) from exc

    async def close(self) -> None:
        return None  # the client closes with open()'s context
