"""The Python ceiling for the EcoLink fan-out workload: a bare ``websockets`` server.

It speaks just enough of the EcoLink wire protocol (subprotocol ``ecolink.v1.msgpack``) for the
load generator (``bench.loadgen``): ``join`` → ``joined``, ``send`` → one pre-encoded ``message``
frame pushed to every member with ``websockets.broadcast()`` plus an ``ack`` to the sender,
``ping`` → ``pong``. No accounts, no persistence, no validation: whatever the real server
does beyond this is its overhead. ``GET /readyz`` answers 200 so the fan-out suite waits for it
the same way as for ``ecolink serve``.

    taskset -c 0 python -m bench.baseline_server --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import signal
import sys
from datetime import datetime, UTC
from http import HTTPStatus

import msgpack
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

SUBPROTOCOLS = ["ecolink.v1.msgpack"]

rooms: dict[str, set[ServerConnection]] = {}
room_seq: dict[str, int] = {}
user_ids = itertools.count(1)


def readyz(connection: ServerConnection, request):  # websockets process_request hook
    if request.path == "/readyz":
        return connection.respond(HTTPStatus.OK, "ok\n")
    return None


async def handler(ws: ServerConnection) -> None:
    user_id = next(user_ids)
    author = {"id": f"u{user_id:08d}", "name": f"Bench {user_id}"}
    joined: set[str] = set()
    packb, unpackb = msgpack.packb, msgpack.unpackb
    try:
        async for raw in ws:
            frame = unpackb(raw)
            kind = frame.get("type")
            if kind == "send":
                room = frame["room"]
                members = rooms.get(room)
                if members is None or ws not in members:
                    await ws.send(packb({"type": "error", "code": "not_joined",
                                         "message": "join the room first",
                                         "cid": frame.get("cid")}))
                    continue
                seq = room_seq[room] = room_seq[room] + 1
                message_id = f"{room}-{seq:020d}"
                message = packb({
                    "type": "message",
                    "room": room,
                    "seq": seq,
                    "id": message_id,
                    "author": author,
                    "body": frame["body"],
                    "sent_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                })
                broadcast(members, message)  # encoded once, written to every connection
                await ws.send(packb({"type": "ack", "room": room, "cid": frame.get("cid"),
                                     "seq": seq, "id": message_id}))
            elif kind == "join":
                room = frame["room"]
                rooms.setdefault(room, set()).add(ws)
                room_seq.setdefault(room, 0)
                joined.add(room)
                await ws.send(packb({"type": "joined", "room": room, "seq": room_seq[room]}))
            elif kind == "leave":
                rooms.get(frame["room"], set()).discard(ws)
                joined.discard(frame["room"])
            elif kind == "ping":
                await ws.send(packb({"type": "pong"}))
    except ConnectionClosed:
        pass
    finally:
        for room in joined:
            rooms[room].discard(ws)


async def main_async(host: str, port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with serve(
        handler,
        host,
        port,
        subprotocols=SUBPROTOCOLS,
        compression=None,
        process_request=readyz,
        max_size=64 * 1024,
        backlog=4096,
    ):
        print(f"baseline listening on {host}:{port}", file=sys.stderr, flush=True)
        await stop


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="bare websockets broadcast server (bench ceiling)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args(argv)
    asyncio.run(main_async(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
