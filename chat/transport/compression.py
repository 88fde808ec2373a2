"""gzip for the node's HTTP responses (never the WebSocket): why and how, docs/decisions.md,
"HTTP compression"."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# zlib's default level. On web/'s files (270 KiB) level 6 gives 81.8 KiB in 6 ms of CPU, level 9
# (Starlette's default) 81.5 KiB in 12 ms; every cold page load pays it, as it is not cached.
GZIP_LEVEL = 6
# Besides Starlette's own list (images, fonts, archives): a PDF's pages are compressed already,
# and a PDF export is sent with its Content-Length (chat/export/service.py).
NOT_ENCODED = (*DEFAULT_EXCLUDED_CONTENT_TYPES, "application/pdf")
# Uploaded files are served as stored, whatever their type (chat/transport/files.py): their
# ETag is the stored bytes' SHA-256 and a Range counts stored bytes.
AS_STORED = "/api/v1/files/"


class CompressedResponses:
    """Starlette's GZipMiddleware (gzip when the request accepts it and the body has at least
    `minimum_size` bytes; images, fonts, archives, PDFs, partial and already-encoded responses pass
    as they are; `Vary: Accept-Encoding` on whatever it could have encoded), with validators
    kept true to the bytes sent:

    * an encoded response's ETag becomes weak (`W/"…"`), as nginx's gzip filter does: one
      strong ETag on two encodings of a file would claim they are the same bytes
      (RFC 9110 section 8.8.3), which a Range request with If-Range relies on. If-None-Match
      compares weakly (RFC 9110 section 13.1.2; Starlette's StaticFiles too), so a revalidation
      still gets its 304;
    * a 304 that answers such a weak ETag names it back, with the Vary the encoded 200 had
      (RFC 9110 section 15.4.5), so the client's stored copy keeps its own validator.

    HTTP only: other scopes pass through, and EcoLinkApp sends `/ws` around Starlette anyway
    (permessage-deflate stays off, as uvicorn is configured)."""

    def __init__(self, app: ASGIApp, minimum_size: int) -> None:
        self.plain = app
        self.app = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=GZIP_LEVEL,
                                  exclude_content_types=NOT_ENCODED)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(AS_STORED):
            await self.plain(scope, receive, send)
            return
        if_none_match = {tag.strip() for tag in Headers(scope=scope).get("if-none-match", "").split(",")}

        async def send_with_validators(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message.setdefault("headers", []))
                etag = headers.get("etag", "")
                if etag.startswith('"'):  # strong
                    if headers.get("content-encoding") == "gzip":  # the node encodes nothing else
                        headers["etag"] = f"W/{etag}"
                    elif message["status"] == 304 and f"W/{etag}" in if_none_match:
                        headers["etag"] = f"W/{etag}"
                        headers.add_vary_header("Accept-Encoding")
            await send(message)

        await self.app(scope, receive, send_with_validators)
