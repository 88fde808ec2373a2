"""The browser client (web/): its page at `/`, its modules under `/src` and `/vendor`.

No build step: the files are served as they are in the repository. The page gets a strict
Content-Security-Policy; the only inline script, the import map, is allowed by its sha256 hash,
computed here from the file so editing the map never needs a second edit
(CSP Level 3, "hash-source": https://www.w3.org/TR/CSP3/#grammardef-hash-source).
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMPORT_MAP = re.compile(rb'<script type="importmap">(.*?)</script>', re.S)
# What may appear in a Host header we echo into connect-src; anything else falls back to 'self'.
SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")

COMMON_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def find_web_dir(configured: Path | None) -> Path:
    """ECOLINK_WEB_DIR if set; else web/ next to the chat package (a clone, an editable
    install); else ./web (the Docker image: WORKDIR /app, web/ copied to /app/web)."""
    if configured is not None:
        return configured
    beside_package = Path(__file__).resolve().parents[2] / "web"
    if (beside_package / "index.html").is_file():
        return beside_package
    return Path.cwd() / "web"


def content_security_policy(script_hashes: list[str], host: str | None) -> str:
    scripts = " ".join(["'self'", *(f"'sha256-{h}'" for h in script_hashes)])
    # 'self' covers ws:/wss: of the same origin in CSP3 browsers; the explicit sources help
    # older ones and say plainly that the socket goes to this node only.
    sockets = f" ws://{host} wss://{host}" if host and SAFE_HOST.match(host) else ""
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class WebFiles(StaticFiles):
    """StaticFiles with the security headers on every file."""

    def file_response(self, full_path, stat_result, scope: Scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(COMMON_HEADERS)
        return response


def web_routes(web_dir: Path) -> list[BaseRoute]:
    index_path = web_dir / "index.html"

    async def index(request: Request) -> Response:
        if not index_path.is_file():
            raise HTTPException(404, f"the web client is not installed here ({web_dir}); set ECOLINK_WEB_DIR")
        page = index_path.read_bytes()  # small; read each time so edits show without a restart
        hashes = [base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()
                  for m in IMPORT_MAP.finditer(page)]
        headers = dict(COMMON_HEADERS)
        headers["Content-Security-Policy"] = content_security_policy(hashes, request.headers.get("host"))
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    return [
        Route("/", index, methods=["GET"], include_in_schema=False),
        Mount("/src", WebFiles(directory=web_dir / "src", check_dir=False), name="web-src"),
        Mount("/vendor", WebFiles(directory=web_dir / "vendor", check_dir=False), name="web-vendor"),
    ]
