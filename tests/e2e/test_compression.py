"""HTTP responses are gzip-encoded for clients that accept it (members behind thin links), with
validators and headers that stay right; the WebSocket on the same app is never touched
(chat/transport/compression.py; docs/decisions.md, "HTTP compression")."""

from __future__ import annotations

import asyncio
import gzip
import logging
import re
import shutil
from pathlib import Path

import httpx
import msgpack

from tests.support.client import WsClient, register
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

WEB = Path(__file__).resolve().parents[2] / "web"
GZIP = {"accept-encoding": "gzip"}
IDENTITY = {"accept-encoding": "identity"}
YEAR = "public, max-age=31536000, immutable"
ROOM = "urban-renewal"


async def fetch_raw(http: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body as it came over the wire (httpx would decode it)."""
    async with http.stream("GET", url, headers=headers) as response:
        return response, b"".join([chunk async for chunk in response.aiter_raw()])


async def versioned_url(http: httpx.AsyncClient, path: str) -> str:
    page = (await http.get("/")).text
    return re.search(rf'href="({re.escape(path)}\?v=[0-9a-f]{{16}})"', page).group(1)


def assert_same_content(encoded: tuple[httpx.Response, bytes], plain: tuple[httpx.Response, bytes]) -> None:
    (gz_response, gz_raw), (plain_response, plain_raw) = encoded, plain
    assert gz_response.status_code == plain_response.status_code == 200
    assert gz_response.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain_response.headers
    assert gzip.decompress(gz_raw) == plain_raw
    assert len(gz_raw) < len(plain_raw) / 2
    for response in (gz_response, plain_response):  # either could have been the other encoding
        assert response.headers["vary"] == "Accept-Encoding"


async def test_a_module_comes_gzip_encoded_with_its_headers_and_still_revalidates(make_settings):
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        url = await versioned_url(http, "/src/main.js")
        encoded, plain = await fetch_raw(http, url, GZIP), await fetch_raw(http, url, IDENTITY)
        gz_etag, plain_etag = encoded[0].headers["etag"], plain[0].headers["etag"]
        revalidated = await http.get(url, headers={**GZIP, "if-none-match": gz_etag})
        revalidated_plain = await http.get(url, headers={**IDENTITY, "if-none-match": plain_etag})
        big = await versioned_url(http, "/vendor/dompurify/purify.es.mjs")  # streamed: over 64 KiB
        big_encoded, big_plain = await fetch_raw(http, big, GZIP), await fetch_raw(http, big, IDENTITY)
        page = await fetch_raw(http, "/", GZIP)
    assert_same_content(encoded, plain)
    assert_same_content(big_encoded, big_plain)
    for response, _ in (encoded, plain, big_encoded):
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == YEAR
        assert response.headers["x-content-type-options"] == "nosniff"
    # One strong ETag on two encodings would say they are the same bytes: the encoded one is weak.
    assert plain_etag.startswith('"') and gz_etag == f"W/{plain_etag}"
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert revalidated.headers["etag"] == gz_etag and revalidated.headers["vary"] == "Accept-Encoding"
    assert revalidated.headers["cache-control"] == YEAR
    assert revalidated.headers["x-content-type-options"] == "nosniff"
    assert revalidated_plain.status_code == 304 and revalidated_plain.headers["etag"] == plain_etag
    # The page too; its policy still allows the import map it carries (the hash is of the
    # decoded page, which is what the browser checks).
    response, raw = page
    assert response.headers["content-encoding"] == "gzip" and response.headers["vary"] == "Accept-Encoding"
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert b'<script type="importmap">' in gzip.decompress(raw)


async def test_a_page_of_messages_comes_gzip_encoded(make_settings, caplog):
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with running_nodes(make_settings()) as [node], httpx.AsyncClient(base_url=node.url) as http:
        ann = await register(node.url, "Ann")
        writer = await WsClient.connect(node.ws_url, ann["token"])
        for n in range(30):
            await writer.send(ROOM, f"Retrofit report {n}: 18% less energy in block C / 绿色建筑评价标准")
        await writer.recv_until(lambda f: f["type"] == "ack" and f["seq"] == 30)
        await writer.close()
        auth = {"authorization": f"Bearer {ann['token']}"}
        url = f"/api/v1/rooms/{ROOM}/messages?limit=50"
        encoded = await fetch_raw(http, url, {**GZIP, **auth})
        plain = await fetch_raw(http, url, {**IDENTITY, **auth})
        rooms = await fetch_raw(http, "/api/v1/rooms", {**GZIP, **auth})
    assert_same_content(encoded, plain)
    assert encoded[0].headers["content-type"] == "application/json"
    assert [m["seq"] for m in httpx.Response(200, content=plain[1]).json()["messages"]] == list(range(1, 31))
    assert rooms[0].headers["content-encoding"] == "gzip"
    # The access log says the same for both: method, path, status (the query string is left out
    # once the node's logging is set up: chat/logs.py).
    path = url.partition("?")[0]
    lines = [(r.args[1], r.args[2].partition("?")[0], *r.args[3:]) for r in caplog.records
             if r.name == "uvicorn.access" and r.args[2].partition("?")[0] == path]
    assert lines == [("GET", path, "1.1", 200)] * 2


async def test_small_errors_metrics_and_images_are_handled_sensibly(make_settings, tmp_path):
    web = tmp_path / "web"
    shutil.copytree(WEB, web)
    image = bytes(range(256)) * 64  # 16 KiB that gzip would shrink, but an image: left alone
    (web / "src" / "figure.png").write_bytes(image)
    async with running_nodes(make_settings(web_dir=web)) as [node], httpx.AsyncClient(base_url=node.url) as http:
        ann = await register(node.url, "Ann")
        auth = {"authorization": f"Bearer {ann['token']}"}
        count = await fetch_raw(http, "/api/v1/notifications/count", {**GZIP, **auth})
        missing = await fetch_raw(http, "/api/v1/nope", GZIP)
        unauthorised = await fetch_raw(http, "/api/v1/me", GZIP)
        png = await fetch_raw(http, "/src/figure.png", GZIP)
        metrics = await fetch_raw(http, "/metrics", GZIP)
    # Under the minimum size: as they were, no Vary (the same bytes whatever was accepted).
    for response, raw in (count, missing, unauthorised):
        assert "content-encoding" not in response.headers and "vary" not in response.headers
        assert response.headers["content-length"] == str(len(raw))
    assert httpx.Response(200, content=count[1]).json().keys() == {"unread"}
    assert missing[0].status_code == 404
    assert httpx.Response(404, content=missing[1]).json()["error"]["code"] == "not_found"
    assert unauthorised[0].status_code == 401
    # Images (like fonts and archives) are compressed by their own format: not encoded again.
    assert png[0].status_code == 200 and png[0].headers["content-type"] == "image/png"
    assert "content-encoding" not in png[0].headers and png[1] == image
    # Prometheus asks for gzip too, and reads it.
    assert metrics[0].status_code == 200 and metrics[0].headers["content-encoding"] == "gzip"
    assert b"ecolink_connections" in gzip.decompress(metrics[1])


async def test_the_websocket_on_the_same_app_is_untouched(make_settings):
    async with running_nodes(make_settings()) as [node]:
        ann = await register(node.url, "Ann")
        # Asking for gzip on the upgrade changes nothing; websockets offers permessage-deflate,
        # which the node declines (compression on the socket stays off).
        client = await WsClient.connect(node.ws_url, ann["token"], headers=GZIP)
        handshake = client.ws.response.headers
        joined = await client.join(ROOM)
        body = "still plain msgpack " * 100  # well over the gzip minimum
        cid = await client.send(ROOM, body)
        decoded: dict[str, dict] = {}
        while not {"ack", "message"} <= decoded.keys():  # in either order, presence among them
            data = await asyncio.wait_for(client.ws.recv(), timeout(10))
            assert isinstance(data, bytes), data  # binary frames, msgpack as ever
            frame = msgpack.unpackb(data)
            decoded.setdefault(frame["type"], frame)
        await client.close()
    assert "content-encoding" not in handshake and "sec-websocket-extensions" not in handshake
    assert handshake["sec-websocket-protocol"] == "ecolink.v1.msgpack"
    assert joined == {"type": "joined", "room": ROOM, "seq": 0}
    assert decoded["ack"]["cid"] == cid and decoded["ack"]["seq"] == 1
    assert decoded["message"]["body"] == body and decoded["message"]["seq"] == 1


async def test_compression_can_be_turned_off(make_settings):
    async with running_nodes(make_settings(http_gzip=False)) as [node], \
            httpx.AsyncClient(base_url=node.url) as http:
        url = await versioned_url(http, "/src/main.js")
        response, raw = await fetch_raw(http, url, GZIP)
    assert "content-encoding" not in response.headers and "vary" not in response.headers
    assert response.headers["etag"].startswith('"') and raw == (WEB / "src" / "main.js").read_bytes()
