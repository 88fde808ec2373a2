"""`open_blobs(settings)`: the node's BlobStore, chosen by the settings (docs/operations.md,
"Files and storage"): S3 when ECOLINK_S3_URL is set, else the local folder ECOLINK_FILES_DIR."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from chat.blobs.local import LocalBlobs
from chat.blobs.port import BlobStore
from chat.config import Settings


@contextlib.asynccontextmanager
async def open_blobs(settings: Settings) -> AsyncIterator[BlobStore]:
    """The store, ready (folders made / bucket checked or created); closed on exit."""
    if settings.s3_url:
        # Imported here: only the S3 backend loads aiobotocore (a second of start-up).
        from chat.blobs.s3 import S3Blobs

        async with S3Blobs.open(
            settings.s3_url,
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None,
            create_bucket=settings.s3_create_bucket,
        ) as s3:
            yield s3
        return
    local = LocalBlobs(settings.files_path)
    await local.prepare()
    try:
        yield local
    finally:
        await local.close()
