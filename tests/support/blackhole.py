"""BlackholeProxy: a TCP proxy (e.g. in front of Redis) whose connections can be wedged.

`wedge()` makes every open connection silent in both directions while leaving it open: no
FIN, no RST, writes still succeed, nothing arrives. That is what a firewall rule dropping an
established connection's packets, or a NAT or conntrack table that forgot it, looks like to both
ends (this machine has `ip netns` but neither iptables nor nftables to write such a rule).
Connections opened after the wedge are forwarded normally, as a reconnect through a firewall
that only lost the old flow's state would be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class _Pair:
    def __init__(self) -> None:
        self.wedged = False
        self.writers: list[asyncio.StreamWriter] = []
        self.tasks: list[asyncio.Task[None]] = []


class BlackholeProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._pairs: list[_Pair] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, target_host: str, target_port: int) -> AsyncIterator[BlackholeProxy]:
        proxy = cls(target_host, target_port)
        proxy._server = await asyncio.start_server(proxy._accept, "127.0.0.1", 0)
        proxy.port = proxy._server.sockets[0].getsockname()[1]
        try:
            yield proxy
        finally:
            proxy._server.close()
            for pair in proxy._pairs:
                for task in pair.tasks:
                    task.cancel()
                for writer in pair.writers:
                    writer.close()
            await asyncio.gather(*(t for p in proxy._pairs for t in p.tasks),
                                 return_exceptions=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def open_connections(self) -> int:
        return sum(1 for pair in self._pairs if not pair.wedged and pair.tasks
                   and not all(t.done() for t in pair.tasks))

    def wedge(self) -> int:
        """Silence every connection open now; returns how many."""
        count = 0
        for pair in self._pairs:
            if not pair.wedged and not all(t.done() for t in pair.tasks):
                pair.wedged = True
                count += 1
        return count

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.close()
            return
        pair = _Pair()
        pair.writers = [client_w, server_w]
        pair.tasks = [asyncio.create_task(self._pipe(pair, client_r, server_w)),
                      asyncio.create_task(self._pipe(pair, server_r, client_w))]
        self._pairs.append(pair)

    @staticmethod
    async def _pipe(pair: _Pair, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                if pair.wedged:
                    continue  # read and dropped: the sender's writes still "succeed"
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        if not pair.wedged:  # a wedged connection never tells the other end anything
            with contextlib.suppress(OSError):
                writer.close()
