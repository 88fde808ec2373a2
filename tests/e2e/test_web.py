"""The web client's files are served by every node with a strict Content-Security-Policy,
every module preloaded, and long caching only under a URL that names the file's content."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from chat.transport.web import STATIC_IMPORT, find_web_dir, resolve_specifier
from tests.support.nodes import running_nodes

WEB = Path(__file__).resolve().parents[2] / "web"
# Vendored files no module imports: preloading them would fetch bytes nothing uses.
# vendor/msgpack/context.mjs: `export {}`, the package's TypeScript types only; src/workers/pow.js:
# the registration challenge's Web Worker, started by subjects/challenge.js, never imported.
NOT_IMPORTED = {"vendor/msgpack/context.mjs", "src/workers/pow.js"}
PRELOAD = re.compile(rb'<link rel="modulepreload" href="([^"]+)">')
YEAR = "public, max-age=31536000, immutable"


def module_files(web: Path) -> set[str]:
    """Every module under web/src and web/vendor, as the URL path the page loads it from."""
    # Not web/sw.js: the service worker is registered by the page, not imported by it.
    found = {f"/{p.relative_to(web).as_posix()}" for folder in ("src", "vendor")
             for p in (web / folder).rglob("*") if p.suffix in (".js", ".mjs")}
    return found - {f"/{name}" for name in NOT_IMPORTED}


def content_version(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


async def test_page_has_a_strict_content_security_policy(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    csp = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    host = f"127.0.0.1:{node.port}"
    assert csp["connect-src"] == f"'self' ws://{host} wss://{host}"
    # the only inline script is the import map, allowed by its hash; no 'unsafe-*' anywhere
    import_map = re.search(rb'<script type="importmap">(.*?)</script>', response.content, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(import_map).digest()).decode()
    assert csp["script-src"] == f"'self' 'sha256-{digest}'"
    assert "unsafe" not in response.headers["content-security-policy"]
    assert b'<link rel="icon" href="data:,">' in response.content
    assert len(re.findall(rb"<script(?![^>]*\bsrc=)", response.content)) == 1


async def test_modules_are_served_as_javascript_and_unknown_files_are_404(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        module = await http.get("/vendor/msgpack/index.mjs")
        app = await http.get("/src/main.js")
        missing = await http.get("/src/nope.js")
        api_missing = await http.get("/api/v1/nope")
    for response in (module, app):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["x-content-type-options"] == "nosniff"
    assert missing.status_code == 404
    assert api_missing.status_code == 404 and api_missing.json()["error"]["code"] == "not_found"


async def test_the_page_is_not_in_the_openapi_document(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        doc = (await http.get("/api/v1/openapi.json")).json()
    assert "/" not in doc["paths"]


def test_web_dir_is_found_from_a_clone_or_configured(tmp_path):
    assert find_web_dir(None) == WEB
    assert find_web_dir(tmp_path) == tmp_path


async def test_a_node_without_the_client_says_how_to_configure_it(make_settings, tmp_path):
    async with running_nodes(make_settings(web_dir=tmp_path)) as [node], \
            httpx.AsyncClient(base_url=node.url) as http:
        response = await http.get("/")
    assert response.status_code == 404
    assert "ECOLINK_WEB_DIR" in response.json()["error"]["message"]


async def test_page_preloads_every_module_under_its_content_hash(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        page = await http.get("/")
        preloads = [url.decode() for url in PRELOAD.findall(page.content)]
        modules = {url: await http.get(url) for url in preloads}
    html = page.content
    assert {urlsplit(url).path for url in preloads} == module_files(WEB)
    assert len(preloads) == len(set(preloads))
    for url, response in modules.items():
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/javascript"), url
        assert response.headers["cache-control"] == YEAR, url
        assert parse_qs(urlsplit(url).query)["v"] == [content_version(WEB / urlsplit(url).path.lstrip("/"))]
    # After the import map (a module fetch before it would make the browser ignore the map),
    # before the module script; the script and the stylesheet are versioned too.
    first_link, script = html.index(b'<link rel="modulepreload"'), html.index(b'<script type="module"')
    assert html.index(b"</script>") < first_link < script
    entry = re.search(rb'<script type="module" src="([^"]+)">', html).group(1).decode()
    assert entry == preloads[0] and entry.startswith("/src/main.js?v=")
    assert re.search(rb'<link rel="stylesheet" href="/src/app\.css\?v=[0-9a-f]{16}">', html)
    # The import map sends bare names and the URL every relative import resolves to to the same
    # versioned URLs, so each module is fetched once, as preloaded.
    imports = json.loads(re.search(rb'<script type="importmap">(.*?)</script>', html, re.S).group(1))["imports"]
    assert imports["msgpack"] in preloads and imports["preact"] in preloads
    assert {imports[urlsplit(url).path] for url in preloads} == set(preloads)
    # The policy is as strict as before: 'self' plus the hash of the map as served, one inline script.
    csp = dict(part.strip().split(" ", 1) for part in page.headers["content-security-policy"].split(";"))
    served_map = re.search(rb'<script type="importmap">(.*?)</script>', html, re.S).group(1)
    assert csp["script-src"] == f"'self' 'sha256-{base64.b64encode(hashlib.sha256(served_map).digest()).decode()}'"
    assert csp["default-src"] == "'self'" and "unsafe" not in page.headers["content-security-policy"]
    assert len(re.findall(rb"<script(?![^>]*\bsrc=)", html)) == 1
    assert page.headers["cache-control"] == "no-cache"


async def test_a_file_is_cached_long_only_under_its_current_hash(make_settings, tmp_path):
    web = tmp_path / "web"
    shutil.copytree(WEB, web)
    async with running_nodes(make_settings(web_dir=web)) as [node], httpx.AsyncClient(base_url=node.url) as http:
        async def api_url() -> str:
            page = (await http.get("/")).content
            return next(url.decode() for url in PRELOAD.findall(page) if url.startswith(b"/src/api.js?"))

        old = await api_url()
        cached = await http.get(old)
        plain = await http.get("/src/api.js")
        wrong = await http.get("/src/api.js?v=0123456789abcdef")
        revalidated = await http.get(old, headers={"if-none-match": cached.headers["etag"]})
        # A deploy (or an edit) changes the file: the page names a new URL at once, and the old
        # URL is no longer cacheable, so a proxy or browser never keeps the new bytes under it.
        with (web / "src" / "api.js").open("a") as f:
            f.write("// changed\n")
        new = await api_url()
        stale = await http.get(old)
        fresh = await http.get(new)
    assert cached.headers["cache-control"] == YEAR
    assert plain.headers["cache-control"] == "no-cache" and plain.content == cached.content
    assert wrong.headers["cache-control"] == "no-cache"
    assert revalidated.status_code == 304 and revalidated.headers["cache-control"] == YEAR
    assert new != old
    assert stale.headers["cache-control"] == "no-cache" and stale.content.endswith(b"// changed\n")
    assert fresh.headers["cache-control"] == YEAR and fresh.content == stale.content


def test_static_imports_are_found_in_plain_and_minified_modules():
    source = """import{options as n}from"preact";
import { a,
  b } from "../state.js";
import "./views/room.js";
export * from './reexport.mjs';
const later = await import("./dynamic.js");  // fetched on demand: not preloaded
"""
    assert STATIC_IMPORT.findall(source) == ["preact", "../state.js", "./views/room.js", "./reexport.mjs"]
    imports = {"preact": "/vendor/preact/preact.module.js", "lib/": "/vendor/lib/"}
    assert resolve_specifier("preact", "/src/html.js", imports) == "/vendor/preact/preact.module.js"
    assert resolve_specifier("../state.js", "/src/views/room.js", imports) == "/src/state.js"
    assert resolve_specifier("lib/x.mjs", "/src/a.js", imports) == "/vendor/lib/x.mjs"
    assert resolve_specifier("unknown", "/src/a.js", imports) is None
    assert resolve_specifier("//cdn.example/x.js", "/src/a.js", imports) is None
