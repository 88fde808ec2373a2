"""Real nodes for end-to-end tests: uvicorn serving the app on a 127.0.0.1 socket, in this
process and event loop (Server.serve(sockets=[sock]) as a task). A node's settings say where it
sends mail (`make_settings(**mailbox.settings)`, tests/support/mailbox.py); its public URL, the
base of links in emails, is its own address unless the settings name one."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from chat.config import Settings
from chat.transport.app import create_app
from chat.transport.server import node_config
from tests.support.timing import timeout


class NodeServer:
    def __init__(self, settings: Settings, **uvicorn_options: object) -> None:
        # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP;
        # with Nagle on, keep-alive requests wait ~40 ms for delayed ACKs.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        # Links in emails point at this node unless the test chose a public URL.
        if settings.public_url is None:
            settings = settings.model_copy(update={"public_url": self.url})
        self.settings = settings
        self.app = create_app(settings)
        # The options `ecolink serve` uses (chat/transport/server.py); `uvicorn_options` add
        # to them (e.g. forwarded_allow_ips).
        config = node_config(self.app, settings, timeout_graceful_shutdown=5, **uvicorn_options)
        self.server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def node(self):  # the running chat.node.Node
        return self.app.state.node

    async def start(self) -> NodeServer:
        self._task = asyncio.create_task(self.server.serve(sockets=[self._sock]))
        deadline = asyncio.get_running_loop().time() + timeout(15)
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises the startup error
                raise RuntimeError("the node stopped during startup")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("the node did not start")
            await asyncio.sleep(0.02)
        return self

    async def stop(self) -> None:
        """A graceful shutdown, as SIGTERM starts one. One that does not end is a failure of
        the test, naming what it waits on: the node would never exit in production either
        (a tick task that swallowed its cancel did, and ran on in this process for ever)."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self.server.should_exit = True
        try:
            await asyncio.wait({task}, timeout=timeout(20))
        finally:
            with contextlib.suppress(OSError):
                self._sock.close()
        if not task.done():
            waiting = sorted(t.get_name() for t in asyncio.all_tasks() if not t.get_name().startswith("Task-"))
            task.cancel()
            raise AssertionError(f"node {self.port} did not shut down; named tasks still running: {waiting}")
        if not task.cancelled():
            task.exception()  # retrieved: a node that failed while serving was the test's to see


@contextlib.asynccontextmanager
async def running_nodes(*settings: Settings) -> AsyncIterator[list[NodeServer]]:
    nodes = [NodeServer(s) for s in settings]
    try:
        for node in nodes:
            await node.start()
        yield nodes
    finally:
        for node in nodes:
            await node.stop()
