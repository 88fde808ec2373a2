"""The client suite's side in the page: JavaScript probes evaluated in Chromium, the emulated
link, the traffic counter (DevTools protocol), and `Session`: one signed-in reader's fresh
browser contexts."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from bench.harness import BenchError

VIEWPORT = {"width": 1280, "height": 800}


async def room_head(base: str, token: str, room: str) -> int:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        response = await http.get(f"/api/v1/rooms/{room}/messages?limit=1",
                                  headers={"Authorization": f"Bearer {token}"})
    return response.json()["messages"][-1]["seq"]


# Waits until the room's latest message is a row in the DOM (a MutationObserver: the moment of
# insertion, before paint) and returns ms since `started` (a performance.now() value).
UNTIL_SHOWN = """(selector, started) => new Promise((resolve) => {
  const check = () => {
    if (!document.querySelector(selector)) return false;
    resolve(performance.now() - started);
    return true;
  };
  if (check()) return;
  const observer = new MutationObserver(() => { if (check()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true });
})"""
SWITCH = f"""async ([room, selector]) => {{
  const started = performance.now();
  const shown = ({UNTIL_SHOWN})(selector, started);
  location.hash = `#/room/${{room}}`;
  return await shown;
}}"""
# Installed before the page's own scripts: performance.now() counts from navigation start.
COLD = f"window.__firstView = ({UNTIL_SHOWN})(%r, 0);"

PROBE_START = """async (room) => {
  const { state, subscribe } = await import('/src/state.js');  // the app's own module instance
  const p = { frames: [], long: [], renders: 0, added: 0, on: true, last: null,
              loaded: state.data.get(room).messages.length };
  window.__bench = p;
  const tick = (now) => {
    if (!p.on) return;
    if (p.last !== null) p.frames.push(now - p.last);
    p.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  p.longObserver = new PerformanceObserver((list) => { for (const e of list.getEntries()) p.long.push(e.duration); });
  p.longObserver.observe({ type: 'longtask' });
  p.unsubscribe = subscribe(() => { p.renders += 1; });
  p.rowObserver = new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes) if (n.nodeName === 'LI' && n.classList.contains('msg')) p.added += 1;
  });
  p.rowObserver.observe(document.querySelector('.messages'), { childList: true, subtree: true });
}"""
PROBE_STOP = """async (room) => {
  const { state } = await import('/src/state.js');
  const p = window.__bench;
  p.on = false;
  for (const e of p.longObserver.takeRecords()) p.long.push(e.duration);
  p.longObserver.disconnect();
  p.unsubscribe();
  p.rowObserver.disconnect();
  return { frames: p.frames, long: p.long, renders: p.renders, added: p.added,
           arrived: state.data.get(room).messages.length - p.loaded,
           rows: document.querySelectorAll('.messages .msg').length };
}"""
HOLDS = """async ([room, body]) => {
  const { state } = await import('/src/state.js');
  return state.data.get(room).messages.some((m) => m.body === body);
}"""
# The row at the top edge of the list and its offset from that edge.
ON_SCREEN = """() => {
  const list = document.querySelector('.messages');
  const top = list.getBoundingClientRect().top;
  const row = [...list.querySelectorAll('.msg[data-id]')].find((r) => r.getBoundingClientRect().bottom > top);
  return { id: row.dataset.id, offset: row.getBoundingClientRect().top - top };
}"""
OFFSET_OF = """(id) => {
  const list = document.querySelector('.messages');
  const row = list.querySelector(`.msg[data-id="${id}"]`);
  return row ? row.getBoundingClientRect().top - list.getBoundingClientRect().top : null;
}"""
LATEST_ON_SCREEN = """() => {
  const list = document.querySelector('.messages');
  const rows = list.querySelectorAll('.msg[data-seq]');
  const last = rows[rows.length - 1].getBoundingClientRect();
  const box = list.getBoundingClientRect();
  return last.bottom <= box.bottom + 1 && last.top >= box.top - 1;
}"""
# One slide back: scroll to the top, wait until older rows are in (or the start shows).
SLIDE_BACK = """() => new Promise((resolve) => {
  const list = document.querySelector('.messages');
  const first = () => +list.querySelector('.msg').dataset.seq;
  const before = first();
  const started = performance.now();
  const done = () => first() < before || list.querySelector('.start');
  const observer = new MutationObserver(() => {
    if (!done()) return;
    observer.disconnect();
    resolve({ ms: performance.now() - started, first: first(), rows: list.querySelectorAll('.msg').length });
  });
  observer.observe(list, { childList: true, subtree: true });
  list.scrollTop = 0;
})"""


@dataclass(frozen=True)
class Link:
    """The network between browser and node as Chrome emulates it (DevTools protocol,
    Network.emulateNetworkConditions): `latency_ms` is added to every request, from sending it
    to the response's headers, so it stands for one round trip; throughputs cap the bytes per
    second each way. Chrome applies it to HTTP; whether WebSocket frames are delayed depends on
    the version, so treat WebSocket timings under emulation as a lower bound."""

    latency_ms: int = 0
    download_kbps: float | None = None
    upload_kbps: float | None = None

    @property
    def emulated(self) -> bool:
        return bool(self.latency_ms or self.download_kbps or self.upload_kbps)

    def conditions(self) -> dict[str, Any]:
        def bytes_per_s(kbps: float | None) -> float:
            return -1 if kbps is None else kbps * 1000 / 8  # -1: no limit

        return {"offline": False, "latency": self.latency_ms,
                "downloadThroughput": bytes_per_s(self.download_kbps),
                "uploadThroughput": bytes_per_s(self.upload_kbps)}

    def __str__(self) -> str:
        if not self.emulated:
            return "direct"
        parts = [f"{self.latency_ms} ms"]
        if self.download_kbps:
            parts.append(f"{self.download_kbps:,g} kbit/s down")
        if self.upload_kbps:
            parts.append(f"{self.upload_kbps:,g} kbit/s up")
        return ", ".join(parts)


class Traffic:
    """Requests that went to the network (not those the browser's cache answered) and the bytes
    the page received: HTTP (bodies and headers, as on the wire) and WebSocket payloads, from
    the DevTools protocol's Network events; and, through the same session, the emulated link
    the page's requests go over from now on."""

    def __init__(self) -> None:
        self.http_bytes = self.ws_bytes = self.requests = 0
        self.from_cache: set[str] = set()

    async def attach(self, context: Any, page: Any, link: Link = Link()) -> Traffic:
        cdp = await context.new_cdp_session(page)
        cdp.on("Network.requestServedFromCache", lambda e: self.from_cache.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.loadingFinished", self._finished)
        cdp.on("Network.webSocketFrameReceived", self._frame)
        await cdp.send("Network.enable")
        if link.emulated:
            await cdp.send("Network.emulateNetworkConditions", link.conditions())
        return self

    def _response(self, event: dict[str, Any]) -> None:
        if event["response"].get("fromDiskCache") or event["response"].get("fromPrefetchCache"):
            self.from_cache.add(event["requestId"])

    def _finished(self, event: dict[str, Any]) -> None:
        if event["requestId"] in self.from_cache:
            return
        self.requests += 1
        self.http_bytes += int(event.get("encodedDataLength", 0))

    def _frame(self, event: dict[str, Any]) -> None:
        response = event["response"]
        payload = response.get("payloadData", "")
        self.ws_bytes += len(base64.b64decode(payload)) if response.get("opcode") == 2 else len(payload.encode())

    def reset(self) -> None:
        self.http_bytes = self.ws_bytes = self.requests = 0
        self.from_cache.clear()

    @property
    def total(self) -> int:
        return self.http_bytes + self.ws_bytes


async def js_heap_mib(context: Any, page: Any) -> float:
    cdp = await context.new_cdp_session(page)
    await cdp.send("HeapProfiler.collectGarbage")
    used = (await cdp.send("Runtime.getHeapUsage"))["usedSize"]
    await cdp.detach()
    return used / 2**20


async def wait_until(page: Any, expression: str, arg: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------------------------------------


@dataclass
class Session:
    """What every measurement needs: the node, the browser, the reader's cookie, the heads."""

    base: str
    browser: Any
    storage: dict[str, Any]
    token: str
    node_pid: int
    heads: dict[str, int] = field(default_factory=dict)

    def row(self, room: str) -> str:
        return f'.messages .msg[data-seq="{self.heads[room]}"]'

    @contextlib.asynccontextmanager
    async def page(self, init_script: str | None = None) -> AsyncIterator[tuple[Any, Any]]:
        """A fresh context (cold cache) signed in as the reader, with one page."""
        context = await self.browser.new_context(storage_state=self.storage, viewport=VIEWPORT,
                                                 locale="en-GB")
        try:
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            if init_script:
                await page.add_init_script(init_script)
            yield context, page
            if errors:
                raise BenchError(f"the page raised: {errors[:3]}")
        finally:
            await context.close()

    async def open_room(self, page: Any, room: str) -> None:
        """Open a room and wait for its latest message (or, in a room without any, its start)."""
        await page.goto(f"{self.base}/#/room/{room}")
        await page.wait_for_selector('.conn[data-state="online"]', timeout=30_000)
        await page.wait_for_selector(self.row(room) if room in self.heads else ".messages .start", timeout=30_000)

    async def refresh_head(self, room: str) -> int:
        self.heads[room] = await room_head(self.base, self.token, room)
        return self.heads[room]
