"""File routes (docs/protocol.md, "Files"): resumable uploads, the one-shot upload, downloads
(attachment, nosniff, sandboxed, ETag = SHA-256, single byte ranges), previews and a file's
description. Upload bodies are read as a stream (request.stream()), one part at a time in the
service, never whole; these routes have their own cap (ECOLINK_UPLOAD_MAX_MB), not the JSON
bodies' limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from collections.abc import AsyncIterator
from typing import Any

from pydantic import StrictInt, StrictStr
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from chat.errors import BadRequest, ChatError, NotFound, PayloadTooLarge
from chat.files.names import content_disposition
from chat.files.shapes import file_json, upload_json
from chat.models import StoredFile, Upload
from chat.transport.http import Body, current_user, node_of, read_body

UPLOAD_OFFSET = "Upload-Offset"
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "private, max-age=0, must-revalidate",
    "Accept-Ranges": "bytes",
}
_RANGE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


class UploadBody(Body):
    name: StrictStr
    size: StrictInt
    type: StrictStr | None = None
    key: StrictStr | None = None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _upload_wire(upload: Upload, file: StoredFile | None = None) -> dict[str, Any]:
    wire = upload_json(upload, _iso(upload.expires_at_ms))
    if upload.file_id is not None:
        wire["offset"] = upload.size
    if file is not None:
        wire["file"] = file_json(file)
    return wire


def _offset_header(request: Request) -> int:
    raw = request.headers.get(UPLOAD_OFFSET, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise BadRequest("send the header Upload-Offset: the byte offset this body starts at")
    return int(raw)


def _declared_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19):
        raise BadRequest("Content-Length must be a number of bytes")
    return int(raw)


async def create_upload(request: Request) -> Response:
    """
    summary: Start a resumable upload
    description: >
      Announce a file (`name`, `size` in bytes, optional claimed `type` and a client `key` of
      8-64 characters that makes this call idempotent: the same member's same key returns the
      same upload). Then send its bytes with PATCH from `offset`, in any number of requests;
      the server commits them in parts of `part_size`. 413 `too_large` past
      ECOLINK_UPLOAD_MAX_MB, 413 `quota_exceeded` past the member's quota, 415
      `unsupported_type` for a name whose extension is not allowed. Webinar guests may not
      upload. docs/protocol.md, "Files".
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            required: [name, size]
            properties:
              name: {type: string}
              size: {type: integer, minimum: 1}
              type: {type: string, description: "the claimed media type"}
              key: {type: string, minLength: 8, maxLength: 64}
    responses:
      201: {$ref: '#/components/responses/Upload'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      415: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    body: UploadBody = await read_body(request, UploadBody)
    files = node_of(request).files
    upload = await files.create_upload(user, body.name, body.size, body.type, body.key)
    return JSONResponse(_upload_wire(upload, await files.finished_file(upload)), 201)


async def upload_state(request: Request) -> Response:
    """
    summary: Where an upload stands (HEAD for the headers only)
    description: >
      GET: the upload as JSON (with `file` once complete). HEAD: 204 with `Upload-Offset`
      (the bytes committed: send from there) and `Upload-Length`. Someone else's upload is 404,
      as is one that expired or was cancelled.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: upload, in: path, required: true, schema: {type: string}}
    responses:
      200: {$ref: '#/components/responses/Upload'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    files = node_of(request).files
    upload = await files.own_upload(user, request.path_params["upload"])
    offset = upload.size if upload.file_id else upload.offset
    headers = {UPLOAD_OFFSET: str(offset), "Upload-Length": str(upload.size)}
    if request.method == "HEAD":
        return Response(status_code=204, headers=headers)
    return JSONResponse(_upload_wire(upload, await files.finished_file(upload)), headers=headers)


async def upload_chunk(request: Request) -> Response:
    """
    summary: Send an upload's bytes from an offset
    description: >
      The raw bytes as the body (any length), starting at `Upload-Offset`, which must be the
      upload's offset (else 409 `offset_mismatch` with `details.offset`). The server commits
      each full part as it arrives; a dropped request loses only its unfinished part: HEAD the
      upload and send from its offset. 200 `{"offset"}`, or 201 `{"offset", "file"}` when the
      last byte arrived. The first bytes decide the type: not allowed, or not what the name
      or the claimed type say → 415 `unsupported_type` and the upload is gone. More bytes than
      the size → 413.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: upload, in: path, required: true, schema: {type: string}}
      - {name: Upload-Offset, in: header, required: true, schema: {type: integer, minimum: 0}}
    requestBody:
      required: true
      content:
        application/offset+octet-stream: {schema: {type: string, format: binary}}
        application/octet-stream: {schema: {type: string, format: binary}}
    responses:
      200: {$ref: '#/components/responses/Upload'}
      201: {$ref: '#/components/responses/Upload'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      409: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      415: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    offset = _offset_header(request)
    files = node_of(request).files
    upload = await files.own_upload(user, request.path_params["upload"])
    declared = _declared_length(request)
    if declared is not None and upload.file_id is None and offset + declared > upload.size:
        raise PayloadTooLarge("more bytes than the upload's size", details={"size": upload.size})
    body = request.stream()
    try:
        upload, file = await files.patch(user, upload.upload_id, offset, body)
    except ClientDisconnect:
        # The link dropped mid-body: the parts committed before stay, the client HEADs and
        # resumes. Nobody reads this answer.
        return Response(status_code=400)
    except ChatError:
        # A refusal mid-body (415, 413): read on, discarding, up to one part, so that a client
        # that sends a part per request is reading when the answer comes rather than writing
        # into a closed connection. Past that the connection is closed after the answer.
        await _discard(body, upload.part_size)
        raise
    wire: dict[str, Any] = {"offset": upload.size if file is not None else upload.offset}
    headers = {UPLOAD_OFFSET: str(wire["offset"])}
    if file is not None:
        wire["file"] = file_json(file)
        return JSONResponse(wire, 201, headers)
    return JSONResponse(wire, 200, headers)


async def _discard(body: AsyncIterator[bytes], limit: int) -> None:
    read = 0
    try:
        async for chunk in body:
            read += len(chunk)
            if read > limit:
                return
    except Exception:  # the client went, or the body was consumed already
        return


async def cancel_upload(request: Request) -> Response:
    """
    summary: Cancel an upload
    description: The parts stored so far are dropped; 404 for someone else's upload.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: upload, in: path, required: true, schema: {type: string}}
    responses:
      204: {description: "cancelled"}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    await node_of(request).files.cancel(user, request.path_params["upload"])
    return Response(status_code=204)


async def upload_file(request: Request) -> Response:
    """
    summary: Upload a whole file in one request
    description: >
      The raw bytes as the body, `Content-Type` the claimed type, `name` in the query; `key`
      (8-64 characters) makes a retry return the file stored the first time. The same checks
      as a resumable upload; the cap is enforced while the body streams (413, nothing kept).
      For bots and the command line; browsers use the resumable upload. docs/protocol.md, "Files".
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: name, in: query, required: true, schema: {type: string}}
      - {name: key, in: query, required: false, schema: {type: string, minLength: 8, maxLength: 64}}
    requestBody:
      required: true
      content:
        '*/*': {schema: {type: string, format: binary}}
    responses:
      201: {$ref: '#/components/responses/File'}
      400: {$ref: '#/components/responses/Error'}
      401: {$ref: '#/components/responses/Error'}
      403: {$ref: '#/components/responses/Error'}
      413: {$ref: '#/components/responses/Error'}
      415: {$ref: '#/components/responses/Error'}
      422: {$ref: '#/components/responses/Error'}
    """
    user = await current_user(request)
    name = request.query_params.get("name", "")
    if not name.strip():
        raise BadRequest("give the file's name as the query parameter 'name'")
    declared = _declared_length(request)
    claimed = request.headers.get("content-type")
    try:
        file = await node_of(request).files.ingest(user, name, request.stream(), claimed, size=declared,
                                                   key=request.query_params.get("key"))
    except ClientDisconnect:  # nothing was kept (ingest aborts); nobody reads this answer
        return Response(status_code=400)
    return JSONResponse(file_json(file), 201)


async def _readable(request: Request) -> StoredFile:
    user = await current_user(request)
    return await node_of(request).files.readable(user, request.path_params["file"])


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None | bool:
    """(start, end exclusive) of a single satisfiable range; None to send everything (no
    Range, a malformed one, or several ranges); False when unsatisfiable (416)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            return False
        return max(0, size - length), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        return False
    return start, end


async def download_file(request: Request) -> Response:
    """
    summary: Download a file
    description: >
      The bytes as stored, as an attachment (`Content-Disposition` with an ASCII name and the
      full UTF-8 name per RFC 5987), `X-Content-Type-Options: nosniff`,
      `Content-Security-Policy: sandbox`, `ETag` the SHA-256, `Cache-Control: private`; one
      byte range (`Range: bytes=a-b`) → 206, an unsatisfiable one → 416. A file this member
      may not read is 404, as is one that does not exist or was deleted.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: file, in: path, required: true, schema: {type: string}}
      - {name: Range, in: header, required: false, schema: {type: string}}
    responses:
      200: {description: "the file", content: {application/octet-stream: {schema: {type: string, format: binary}}}}
      206: {description: "the range asked for"}
      304: {description: "unchanged (If-None-Match)"}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
      416: {description: "the range is outside the file"}
    """
    return file_response(request, await _readable(request))


def wants_whole(request: Request) -> bool:
    """Whether this download request asks for the file from its first byte (no Range, or one
    from 0): what counts as a download, a resumed one not again."""
    wanted = _byte_range(request.headers.get("range"), 2**63)
    return not isinstance(wanted, tuple) or wanted[0] == 0


def file_response(request: Request, f: StoredFile) -> Response:
    """A readable file's bytes as an attachment (nosniff, sandboxed, a safe name), with its
    ETag, a single byte range (206, 416) and HEAD; the library's downloads are served so too."""
    files = node_of(request).files
    etag = f'"{f.sha256}"'
    headers = {**DOWNLOAD_HEADERS, "ETag": etag, "Content-Disposition": content_disposition(f.name)}
    if etag in {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    wanted = _byte_range(request.headers.get("range"), f.size)
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != etag:
        wanted = None
    if wanted is False:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{f.size}"})
    if wanted is None or wanted is True:
        headers["Content-Length"] = str(f.size)
        chunks = files.stream(f) if request.method != "HEAD" else None
        return _streamed(chunks, 200, f.mime, headers)
    start, end = wanted
    headers["Content-Length"] = str(end - start)
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{f.size}"
    chunks = files.stream(f, start, end) if request.method != "HEAD" else None
    return _streamed(chunks, 206, f.mime, headers)


def _streamed(chunks: Any, status: int, media_type: str, headers: dict[str, str]) -> Response:
    if chunks is None:
        return Response(status_code=status, media_type=media_type, headers=headers)
    return StreamingResponse(chunks, status, headers, media_type)


async def file_preview(request: Request) -> Response:
    """
    summary: A file's preview image
    description: >
      image/webp, at most 640 px on its longer side, without metadata (EXIF, GPS); images and
      PDFs only (a file's `preview` field says whether it has one). 404 when it has none or
      the member may not read the file.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: file, in: path, required: true, schema: {type: string}}
    responses:
      200: {description: "the preview", content: {image/webp: {schema: {type: string, format: binary}}}}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    f = await _readable(request)
    if f.preview_key is None:
        raise NotFound("this file has no preview")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400",
               "Content-Security-Policy": "sandbox", "ETag": f'"p-{f.sha256}"'}
    return StreamingResponse(node_of(request).files.preview(f), 200, headers, "image/webp")


async def file_meta(request: Request) -> Response:
    """
    summary: A file's description
    description: The file's wire dict (id, name, type, size, kind, preview); 404 as for a download.
    tags: [files]
    security: [{bearer: []}, {cookie: []}]
    parameters:
      - {name: file, in: path, required: true, schema: {type: string}}
    responses:
      200: {$ref: '#/components/responses/File'}
      401: {$ref: '#/components/responses/Error'}
      404: {$ref: '#/components/responses/Error'}
    """
    return JSONResponse(file_json(await _readable(request)))
