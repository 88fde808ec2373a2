"""Bodies that are costly to render never stall the node (issue: `![` patterns froze a node).

Over real uvicorn sockets on both backends: an attacker floods worst-case Markdown bodies (and
worst-case topic bodies over HTTP) while `/healthz` and another member's sends keep being
answered; the costly bodies are rendered off the event loop (or stored as escaped plain text),
never inline, and their HTML stays sanitised. Speed is measured by `scripts/bench abuse`,
not asserted here.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from chat.rooms.markdown import render_plain
from tests.support.client import WsClient, bearer, http_client, register
from tests.support.nodes import running_nodes
from tests.support.timing import timeout

pytestmark = pytest.mark.asyncio

ROOM = "green-buildings"
WORST = "![" * 4995  # ~10,000 characters: ~110 ms of markdown-it each, on the loop before
UNLIMITED = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000,
             "ws_rate_per_s": 100_000, "ws_rate_burst": 100_000}


def renders(metrics_text: str) -> dict[str, float]:
    """ecolink_renders_total by outcome: bodies not rendered on the event loop."""
    pattern = r'^ecolink_renders_total\{outcome="([^"]+)"\} (\S+)$'
    return {outcome: float(n) for outcome, n in re.findall(pattern, metrics_text, re.M)}


async def test_the_node_keeps_answering_others_while_a_member_floods_costly_bodies(backend):
    async with running_nodes(backend(**UNLIMITED)) as [node]:
        attacker, other = await register(node.url, "mallory"), await register(node.url, "olga")
        a = await WsClient.connect(node.ws_url, attacker["token"])
        o = await WsClient.connect(node.ws_url, other["token"])
        await o.join(ROOM)
        flood = 50
        for n in range(flood):  # all at once, inside what the limits allow here
            await a.send_frame({"type": "send", "room": ROOM, "body": WORST + str(n), "cid": f"w{n}"})
        health: list[int] = []
        acks: list[dict[str, Any]] = []
        async with http_client(node.url, wait_units=30) as client:
            for n in range(5):  # meanwhile: the node answers others
                health.append((await client.get("/healthz")).status_code)
                cid = await o.send(ROOM, f"still here {n}", cid=f"o{n}")
                acks.append(await o.wait_for(lambda f, cid=cid: f["type"] in ("ack", "error")
                                             and f.get("cid") == cid, timeout(60)))
            answers = [await a.recv_until(lambda f: f["type"] in ("ack", "error"), timeout(120))
                       for _ in range(flood)]
            metrics = renders((await client.get("/metrics")).text)
            page = (await client.get(f"/api/v1/rooms/{ROOM}/messages?limit=200",
                                     headers=bearer(other["token"]))).json()["messages"]
        assert health == [200] * 5
        assert [f["type"] for f in acks] == ["ack"] * 5
        assert [f["type"] for f in answers] == ["ack"] * flood
        # Not one costly body was rendered on the loop: each went to the worker or became text.
        assert sum(metrics.values()) == flood, metrics
        costly = [m for m in page if m["body"].startswith("![")]
        assert len(costly) == flood
        for message in costly:
            assert message["html"] in (render_plain(message["body"]),
                                       f"<p>{message['body']}</p>"), message["html"][:80]
        plain = [m for m in page if m["body"].startswith("still here")]
        assert [m["html"] for m in plain] == [f"<p>still here {n}</p>" for n in range(5)]
        await a.close()
        await o.close()


async def test_a_costly_body_becomes_escaped_text_when_no_worker_may_render_it(backend):
    async with running_nodes(backend(render_workers=0)) as [node]:
        ann = await register(node.url, "ann")
        ws = await WsClient.connect(node.ws_url, ann["token"])
        await ws.join(ROOM)
        costly = "<script>alert(1)</script> **bold** " + "[" * 3000
        await ws.send(ROOM, costly, cid="costly")
        await ws.send(ROOM, "**cheap** and [a link](https://example.org)", cid="cheap")
        got = [await ws.wait_for(lambda f, b=b: f["type"] == "message" and f["body"] == b)
               for b in (costly, "**cheap** and [a link](https://example.org)")]
        assert got[0]["html"] == render_plain(costly)
        assert got[0]["html"].startswith("<p>&lt;script&gt;alert(1)&lt;/script&gt; **bold** [[[")
        assert got[1]["html"] == ('<p><strong>cheap</strong> and <a href="https://example.org" '
                                  'target="_blank" rel="noopener noreferrer nofollow ugc">a link</a></p>')
        await ws.close()


async def test_costly_topic_bodies_are_rendered_off_the_loop(backend):
    async with running_nodes(backend(**UNLIMITED)) as [node]:
        ann = await register(node.url, "ann")
        body = "![" * 25_000  # 50,000 characters: ~550 ms each on the loop before
        async with http_client(node.url, wait_units=30) as client:
            posts = [client.post(f"/api/v1/rooms/{ROOM}/topics", headers=bearer(ann["token"]),
                                 json={"title": f"t{n}", "body": body}) for n in range(8)]
            pending = asyncio.gather(*posts)
            health = [(await client.get("/healthz")).status_code for _ in range(3)]
            created = await pending
            metrics = renders((await client.get("/metrics")).text)
        assert health == [200] * 3
        assert [r.status_code for r in created] == [201] * 8
        assert sum(metrics.values()) == 8, metrics
        for response in created:
            assert response.json()["topic"]["html"] in (render_plain(body), f"<p>{body}</p>")
