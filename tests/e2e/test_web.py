"""The web client's files are served by every node with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx

from chat.transport.web import find_web_dir
from tests.support.nodes import running_nodes

WEB = Path(__file__).resolve().parents[2] / "web"


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
