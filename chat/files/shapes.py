"""A file's wire dict (docs/protocol.md, "Files"): what routes answer and what message frames,
topics, library versions and project pages carry."""

from __future__ import annotations

from typing import Any

from chat.models import StoredFile, Upload


def file_json(f: StoredFile) -> dict[str, Any]:
    """{"id", "name", "type", "size", "kind", "preview"?: {"w", "h"}}."""
    wire: dict[str, Any] = {"id": f.file_id, "name": f.name, "type": f.mime, "size": f.size, "kind": f.kind}
    if f.preview_key and f.preview_w and f.preview_h:
        wire["preview"] = {"w": f.preview_w, "h": f.preview_h}
    return wire


def upload_json(u: Upload, expires_at: str) -> dict[str, Any]:
    """{"id", "offset", "size", "part_size", "expires_at", "name"}."""
    return {"id": u.upload_id, "name": u.name, "offset": u.offset, "size": u.size,
            "part_size": u.part_size, "expires_at": expires_at}
