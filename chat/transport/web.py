"""The browser client (web/): its page at `/`, its modules under `/src` and `/vendor`.

No build step: the files are served as they are in the repository. The page gets a strict
Content-Security-Policy; the only inline script, the import map, is allowed by its sha256 hash,
computed here from the page as served, so editing the map never needs a second edit
(CSP Level 3, "hash-source": https://www.w3.org/TR/CSP3/#grammardef-hash-source).

Two things make the page load in few round trips over a slow link without bundling (figures:
docs/benchmarks.md, "Browser client"):

* every module the page imports gets a `<link rel="modulepreload">`, found by following the
  static imports from the page's module scripts, so the browser fetches them all at once
  instead of discovering them one level of the import graph at a time
  (https://html.spec.whatwg.org/multipage/links.html#link-type-modulepreload);
* every such URL carries its file's content hash (`?v=`), through the import map for the
  imports inside modules, and a request whose `v` is the file's current hash may be cached for a
  year; anything else, the page included, is `no-cache`. A changed file gets a new URL, so a
  cached copy is never used with a newer page.

The page is also an installable web app: `/manifest.webmanifest`, its icons under `/icons`, and
a service worker, `/sw.js`, served from the root so that its scope is the whole client. The
worker keeps the page and the files it names for an offline start and never touches `/api` or
`/ws` (web/sw.js; docs/decisions.md, "The web client on a phone, offline, installed").
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import posixpath
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

IMPORT_MAP = re.compile(rb'<script type="importmap">(.*?)</script>', re.S)
MODULE_SCRIPT = re.compile(rb'<script type="module" src="([^"]+)"')
# A file of ours named in the page (module script, stylesheet): its URL gets the content hash.
LOCAL_FILE = re.compile(rb'\b(src|href)="(/(?:src|vendor)/[^"?#]+)"')
# Static imports and re-exports, minified or not: `import x from "m"`, `import{a}from"m"`,
# `import "m"`, `export * from "m"`. Not `import("m")`: a dynamic import is not preloaded. A
# regex, not a parser: a match inside a string or comment resolves to no file and is dropped.
STATIC_IMPORT = re.compile(r"""(?<![\w$.])(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?["']([^"'\s]+)["']""")
MODULE_SUFFIXES = (".js", ".mjs")
VERSION = "v"  # the query parameter that carries the content hash
CACHE_VERSIONED = "public, max-age=31536000, immutable"  # RFC 8246; a year, as RFC 9111 allows
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
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


@dataclass(frozen=True)
class FileFacts:
    version: str  # the start of the content's sha256, in hex
    imports: tuple[str, ...]  # the module specifiers it imports statically, as written


class ClientFiles:
    """What the page needs to know about the files under /src and /vendor: each one's content
    hash and static imports. Kept per file until its size, mtime or inode changes, so an edit
    shows without a restart and a page costs a stat per module, not a read; kept per process,
    so the apps of one process (the tests start hundreds) read and hash each file once."""

    _facts: dict[str, tuple[tuple[int, int, int], FileFacts]] = {}

    def __init__(self, web_dir: Path) -> None:
        self.roots = {"/src/": web_dir / "src", "/vendor/": web_dir / "vendor"}

    def path_of(self, url: str) -> str | None:
        """The file behind a URL path such as /src/views/room.js, if it exists; resolved and
        confined to its folder as StaticFiles does (so the same key for the same file)."""
        for prefix, root in self.roots.items():
            if url.startswith(prefix):
                path, folder = os.path.realpath(root / url[len(prefix):]), os.path.realpath(root)
                inside = os.path.commonpath([path, folder]) == folder
                return path if inside and os.path.isfile(path) else None
        return None

    def facts(self, path: str, stat_result: os.stat_result | None = None) -> FileFacts:
        st = stat_result or os.stat(path)
        key = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._facts.get(path)
        if cached and cached[0] == key:
            return cached[1]
        data = Path(path).read_bytes()
        imports: tuple[str, ...] = ()
        if path.endswith(MODULE_SUFFIXES):
            imports = tuple(STATIC_IMPORT.findall(data.decode("utf-8", "replace")))
        found = FileFacts(hashlib.sha256(data).hexdigest()[:16], imports)
        self._facts[path] = (key, found)
        return found

    def versioned(self, url: str) -> str:
        path = self.path_of(url)
        return f"{url}?{VERSION}={self.facts(path).version}" if path else url

    def modules(self, entries: list[str], imports: dict[str, str]) -> dict[str, str]:
        """Every module reachable by static imports from `entries` (URL paths), shallowest first,
        each with its versioned URL. Bare names resolve through the import map's `imports`
        (exact names and "prefix/" entries; `scopes` are not followed), relative ones against
        the importing module."""
        found: dict[str, str] = {}
        queue = list(entries)
        for url in queue:  # grows while we walk it: breadth first
            path = None if url in found else self.path_of(url)
            if path is None:
                continue
            facts = self.facts(path)
            found[url] = f"{url}?{VERSION}={facts.version}"
            queue.extend(t for s in facts.imports if (t := resolve_specifier(s, url, imports)) and t not in found)
        return found


def resolve_specifier(specifier: str, referrer: str, imports: dict[str, str]) -> str | None:
    """The URL path an import of `specifier` in the module at `referrer` loads, or None for a
    bare name the map does not know or a URL of another origin
    (https://html.spec.whatwg.org/multipage/webappapis.html#resolve-a-module-specifier)."""
    if specifier.startswith("//"):
        return None
    if specifier.startswith(("/", "./", "../")):
        specifier = posixpath.normpath(posixpath.join(posixpath.dirname(referrer), specifier))
    if specifier in imports:
        specifier = imports[specifier]
    else:
        prefix = max((k for k in imports if k.endswith("/") and specifier.startswith(k)), key=len, default=None)
        if prefix is not None:
            specifier = imports[prefix] + specifier[len(prefix):]
    return specifier if specifier.startswith("/") and not specifier.startswith("//") else None


def render_page(page: bytes, files: ClientFiles) -> bytes:
    """index.html as served: each file of ours it loads under its versioned URL, the import map
    extended to version the imports inside modules, and a modulepreload link per module right
    after the map (a module fetch started before the map would make the browser ignore it)."""
    found = IMPORT_MAP.search(page)
    declared = json.loads(found.group(1)) if found else {}
    imports = declared.get("imports", {})
    modules = files.modules([m.group(1).decode() for m in MODULE_SCRIPT.finditer(page)], imports)

    def versioned(url: str) -> str:
        return modules.get(url) or files.versioned(url)

    mapped = {name: versioned(target) for name, target in imports.items()}
    # URL-like keys remap what relative imports resolve to: "./state.js" in /src/main.js?v=…
    # resolves to /src/state.js, which this map turns into /src/state.js?v=….
    mapped.update(modules)
    import_map = json.dumps({**declared, "imports": mapped}, indent=1, ensure_ascii=False)
    head = "".join([
        '<script type="importmap">\n', import_map.replace("</", "<\\/"), "\n</script>",
        *(f'\n<link rel="modulepreload" href="{escape(url)}">' for url in modules.values()),
    ]).encode()
    page = LOCAL_FILE.sub(lambda m: b'%s="%s"' % (m.group(1), versioned(m.group(2).decode()).encode()), page)
    if found:
        return IMPORT_MAP.sub(lambda _: head, page, count=1)
    first_module = MODULE_SCRIPT.search(page)
    at = first_module.start() if first_module else len(page)
    return page[:at] + head + b"\n" + page[at:]


class WebFiles(StaticFiles):
    """StaticFiles with the security headers on every file, cacheable for a year when asked for
    by its current content hash (`?v=`), else revalidated on every use (`no-cache`)."""

    def __init__(self, *, directory: Path, files: ClientFiles) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.files = files

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(COMMON_HEADERS)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(VERSION)
        # full_path is resolved already (StaticFiles.lookup_path), as ClientFiles.path_of keys it.
        if asked and asked[-1] == self.files.facts(str(full_path), stat_result).version:
            response.headers["Cache-Control"] = CACHE_VERSIONED
        return response


# Files served at the root under a fixed name: the manifest (its registered type,
# https://www.w3.org/TR/appmanifest/#media-type-registration) and the service worker, which must
# sit at "/" to control the whole page (https://w3c.github.io/ServiceWorker/#path-restriction).
# Always revalidated: a deploy changes them under the same URL.
ROOT_FILES = {
    "manifest.webmanifest": "application/manifest+json",
    "sw.js": "text/javascript; charset=utf-8",
}
# The worker's own policy (a worker gets its CSP from its response, not from the page).
WORKER_POLICY = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'"


def root_file_route(web_dir: Path, name: str, media_type: str) -> Route:
    path = web_dir / name

    async def serve(request: Request) -> Response:
        if not path.is_file():
            raise HTTPException(404, f"{name} is not installed here ({web_dir}); set ECOLINK_WEB_DIR")
        headers = dict(COMMON_HEADERS)
        if name == "sw.js":
            headers["Content-Security-Policy"] = WORKER_POLICY
        return Response(path.read_bytes(), media_type=media_type, headers=headers)

    return Route(f"/{name}", serve, methods=["GET"], include_in_schema=False)


def web_routes(web_dir: Path) -> list[BaseRoute]:
    index_path = web_dir / "index.html"
    files = ClientFiles(web_dir)

    async def index(request: Request) -> Response:
        if not index_path.is_file():
            raise HTTPException(404, f"the web client is not installed here ({web_dir}); set ECOLINK_WEB_DIR")
        # Read and rendered each time (a stat per module) so edits show without a restart.
        page = render_page(index_path.read_bytes(), files)
        hashes = [base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()
                  for m in IMPORT_MAP.finditer(page)]
        headers = dict(COMMON_HEADERS)
        headers["Content-Security-Policy"] = content_security_policy(hashes, request.headers.get("host"))
        return Response(page, media_type="text/html; charset=utf-8", headers=headers)

    return [
        Route("/", index, methods=["GET"], include_in_schema=False),
        Mount("/src", WebFiles(directory=web_dir / "src", files=files), name="web-src"),
        Mount("/vendor", WebFiles(directory=web_dir / "vendor", files=files), name="web-vendor"),
        Mount("/icons", WebFiles(directory=web_dir / "icons", files=files), name="web-icons"),
        *(root_file_route(web_dir, name, media_type) for name, media_type in ROOT_FILES.items()),
    ]
