"""Files: a 1 GiB upload and download through the node on each storage backend, and a busy room meanwhile.

Per storage backend (--storage: the local folder, S3), one node (``ecolink serve``, PostgreSQL +
Redis) on a fresh database, Redis prefix and data folder; for S3 a fresh bucket on a moto server
(``python -m bench.s3server``: moto's ThreadedMotoServer in a process of its own) or on the
S3-compatible store at --s3-url (e.g. MinIO). The files are ZIP archives made on the fly
(bench/payload.py: one stored entry of random bytes, any byte range produced again, never held
in memory); the allowlist sniffs a real ZIP.

With the busy room running (the export suite's live load, bench/busyroom.py: --receivers
WebSocket clients in `urban-renewal`, a sender at --live-rate), after --baseline-s seconds of
that alone, one after the other, each followed by --pause-s seconds of live traffic alone:

1. upload of a --size-mb file (1024 MiB) through the resumable protocol: ``POST
   /api/v1/uploads`` then ``PATCH /api/v1/uploads/{id}`` with ``Upload-Offset``, each PATCH
   one part of the server's part size as the web client sends them (--patch-mb for more);
2. its download, ``GET /api/v1/files/{id}``, its SHA-256 checked against the bytes sent;
3. --concurrent uploads (10) of --concurrent-mb (100 MiB) each at once, by as many members.

Per step: time, MB/s, requests, the node's RSS before, at its peak (psutil every --sample-ms)
and after, the CPU of the node, this database's PostgreSQL backends, the S3 server, the
benchmark's processes and everything else on the machine. Per period: the busy room's delivery
latency p50 / p99 / max, the ack latency and the WebSocket ping's round trip. Nothing is
pinned; node, load generator, S3 server and this process run at niceness --nice (-10).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

from bench import nodes, targets
from bench.busyroom import BusyRoom, period_table
from bench.harness import (
    BenchError,
    Report,
    add_profile_arguments,
    add_quiet_arguments,
    check_profile,
    fmt,
    log,
    machine_lines,
    node_setting,
    non_negative_float,
    positive_float,
    positive_int,
    table,
)
from bench.payload import Payload

NAME = "files"
HELP = "a 1 GiB upload and download on the local folder and on S3: MB/s and node RSS; a busy room's p99 while 10 uploads run"
MODES = ("postgres",)
DEFAULT_MODE = "postgres"
HOST = "127.0.0.1"
LIVE_ROOM = "urban-renewal"
STORAGES = ("local", "s3")
STORAGE_LABEL = {"local": "local folder", "s3": "S3"}
MB = 1e6
MIB = 1 << 20
# Where a GIL-holding sample of the node is (--profile): the first bucket that matches a frame of
# its stack takes it (bench/probes.py, profile_summary).
PROFILE_BUCKETS = (
    ("local store: file writes and reads (threads)", ("chat/blobs/local.py",), "worker"),
    ("S3 client: signing, checksums (botocore)", ("botocore/auth.py", "botocore/handlers.py",
                                                  "botocore/httpchecksum.py", "botocore/utils.py"), "main"),
    ("S3 client: the rest (aiobotocore, aiohttp)", ("aiobotocore", "botocore", "aiohttp"), "main"),
    ("asyncpg", ("asyncpg",), "main"),
    ("upload: a full part copied, hashed, stored (_commit)", ("_commit (",), "main"),
    ("upload: body into the part buffer (feed, request stream)", ("feed (", "starlette/requests.py"), "main"),
    ("download: the file's stream", ("chat/files/service.py", "starlette/responses.py"), "main"),
    ("HTTP protocol (uvicorn, h11)", ("uvicorn/protocols/http", "h11"), "main"),
    ("live traffic (hub, rooms, websockets, append)", ("chat/hub", "chat/rooms", "chat/transport/ws", "websockets",
                                                       "chat/store/append", "chat/broker", "chat/redis"), "main"),
)


def storage_list(text: str) -> list[str]:
    names = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [n for n in names if n not in STORAGES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected storage backends from {', '.join(STORAGES)}, got {text!r}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a storage backend is named twice in {text!r}")
    return names


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", type=storage_list, default=list(STORAGES),
                   help="storage backends to measure, in this order (default local,s3)")
    p.add_argument("--size-mb", type=positive_int, default=1024,
                   help="size of the big file in MiB (default 1024: 1 GiB; e.g. 64 for a quick run)")
    p.add_argument("--concurrent", type=positive_int, default=10,
                   help="uploads at once, each by its own member, during the busy room (default 10)")
    p.add_argument("--concurrent-mb", type=positive_int, default=100,
                   help="size of each concurrent upload in MiB (default 100)")
    p.add_argument("--paced-mbs", type=non_negative_float, default=4.0,
                   help="then the same concurrent uploads again, each held to this many MB/s, as members on "
                        "real links would send them (default 4, about 32 Mbit/s; 0 skips this step)")
    p.add_argument("--patch-mb", type=positive_int,
                   help="bytes per PATCH in MiB, rounded down to whole parts (default: one part of the "
                        "server's part size, as the web client sends them)")
    p.add_argument("--receivers", type=positive_int, default=50,
                   help="WebSocket clients joined to the busy room (default 50)")
    p.add_argument("--live-rate", type=positive_float, default=20.0,
                   help="messages per second sent to the busy room (default 20)")
    p.add_argument("--baseline-s", type=positive_float, default=20.0,
                   help="seconds of live traffic alone before the first step (default 20)")
    p.add_argument("--pause-s", type=non_negative_float, default=15.0,
                   help="seconds of live traffic alone after each step, reported as a control period (default 15)")
    p.add_argument("--sample-ms", type=positive_int, default=100,
                   help="how often the node's RSS is read during a step (default 100)")
    p.add_argument("--s3-url", default=os.environ.get("ECOLINK_BENCH_S3_URL"),
                   help="an S3-compatible store to use (e.g. MinIO: http://127.0.0.1:9000) with a fresh bucket "
                        "removed afterwards (default: $ECOLINK_BENCH_S3_URL, else a moto server started for "
                        "the run in its own process)")
    p.add_argument("--s3-access-key", default=os.environ.get("ECOLINK_BENCH_S3_ACCESS_KEY", "bench"),
                   help="access key for --s3-url (default: $ECOLINK_BENCH_S3_ACCESS_KEY, else 'bench', which moto takes)")
    p.add_argument("--s3-secret-key", default=os.environ.get("ECOLINK_BENCH_S3_SECRET_KEY", "bench-secret"),
                   help="secret key for --s3-url (default: $ECOLINK_BENCH_S3_SECRET_KEY)")
    p.add_argument("--nice", type=int, default=-10,
                   help="niceness of the node, the load generator, the S3 server, this process and this "
                        "database's PostgreSQL backends (default -10; needs root; 0 leaves it alone)")
    add_quiet_arguments(p, "storage backend's node")
    add_profile_arguments(p, "step", "STEP")
    p.add_argument("--set", type=node_setting, action="append", default=[], metavar="ECOLINK_NAME=value",
                   help="a setting of the node (repeatable), e.g. ECOLINK_UPLOAD_PART_MB=16")


def check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not -20 <= args.nice <= 19:
        parser.error(f"--nice must be between -20 and 19, got {args.nice}")
    check_profile(parser, args)
    if max(args.size_mb, args.concurrent_mb) >= 4096:
        parser.error("--size-mb and --concurrent-mb must stay under 4096 (the test file is a ZIP without ZIP64)")
    if args.s3_url and not args.s3_url.startswith(("http://", "https://")):
        parser.error("--s3-url must start with http:// or https://")


# ---------------------------------------------------------------------------------------------
# The client's side: the upload protocol and the download


class UploadFailed(Exception):
    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"HTTP {status}: {text[:300]}")
        self.status = status


def error_offset(response: object) -> int | None:
    """The server's offset in a 409 offset_mismatch answer ({"error": {"details": {"offset"}}}
    or a top-level "offset")."""
    try:
        doc = response.json()  # type: ignore[attr-defined]
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    error = doc.get("error") if isinstance(doc.get("error"), dict) else {}
    details = error.get("details") if isinstance(error.get("details"), dict) else {}
    found = details.get("offset", doc.get("offset"))
    return found if isinstance(found, int) and not isinstance(found, bool) else None


class Pacer:
    """Holds one upload to `rate` bytes/s on average from its first byte (None or 0: no limit)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.clock = rate, clock
        self.t0: float | None = None
        self.sent = 0

    def delay(self, n: int) -> float:
        """Seconds to wait after `n` more bytes left, so that the total keeps to the rate."""
        if not self.rate:
            return 0.0
        now = self.clock()
        if self.t0 is None:
            self.t0 = now
        self.sent += n
        return max(0.0, self.t0 + self.sent / self.rate - now)


async def paced(pieces: AsyncIterator[bytes], pacer: Pacer) -> AsyncIterator[bytes]:
    async for piece in pieces:
        yield piece
        wait = pacer.delay(len(piece))
        if wait > 0:
            await asyncio.sleep(wait)


def patch_step(part_size: int, patch_bytes: int | None) -> int:
    """Bytes per PATCH: whole parts (the server commits only full parts before the last)."""
    return part_size * max(1, (patch_bytes or part_size) // part_size)


async def upload(client: object, base: str, token: str, payload: Payload, name: str,
                 patch_bytes: int | None, pace: float | None = None) -> dict:
    """One file through ``POST /api/v1/uploads`` and PATCHes from the server's offset; the
    server's answers decide where each PATCH starts (a short or refused one is sent again)."""
    auth = {"Authorization": f"Bearer {token}"}
    t0 = time.monotonic()
    r = await client.post(f"{base}/api/v1/uploads", headers=auth,  # type: ignore[attr-defined]
                          json={"name": name, "size": payload.size, "type": "application/zip",
                                "key": secrets.token_urlsafe(18)})
    if r.status_code != 201:
        raise UploadFailed(r.status_code, r.text)
    doc = r.json()
    upload_id, offset, part_size = doc["id"], doc["offset"], doc["part_size"]
    step = patch_step(part_size, patch_bytes)
    requests, resent, stuck, patch_s = 1, 0, 0, []
    pacer = Pacer(pace)
    file: dict | None = None
    while file is None:
        n = min(step, payload.size - offset)
        p0 = time.monotonic()
        r = await client.patch(  # type: ignore[attr-defined]
            f"{base}/api/v1/uploads/{upload_id}", content=paced(payload.stream(offset, offset + n), pacer),
            headers={**auth, "Upload-Offset": str(offset), "Content-Length": str(n),
                     "Content-Type": "application/octet-stream"})
        patch_s.append(time.monotonic() - p0)
        requests += 1
        if r.status_code == 409 and error_offset(r) is not None:
            new = error_offset(r)
        elif r.status_code in (200, 201):
            new = r.json()["offset"]
            if r.status_code == 201:
                file = r.json()["file"]
        else:
            raise UploadFailed(r.status_code, r.text)
        resent += max(0, offset + n - new) if r.status_code != 201 else 0
        stuck = stuck + 1 if new <= offset and file is None else 0
        if stuck >= 3:
            raise UploadFailed(r.status_code, f"no progress at offset {offset} after 3 PATCHes: {r.text}")
        offset = new
    return {"status": 201, "bytes": payload.size, "total_s": time.monotonic() - t0, "requests": requests,
            "resent_bytes": resent, "part_size": part_size, "patch_bytes": step, "file": file,
            "patch_p50_ms": 1000 * statistics.median(patch_s), "patch_max_ms": 1000 * max(patch_s[:-1] or patch_s),
            "last_patch_ms": 1000 * patch_s[-1]}


def file_checked(file: dict | None, payload: Payload) -> bool:
    """The completed upload's file: the size sent, a ZIP, and the server's SHA-256 when it says one."""
    if not file:
        return False
    stated = file.get("sha256")
    return (file.get("size") == payload.size and file.get("kind") == "zip"
            and (stated is None or stated == payload.sha256))


async def download(client: object, base: str, token: str, file_id: str) -> dict:
    """``GET /api/v1/files/{id}``, hashed as it streams by and dropped."""
    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
    digest = hashlib.sha256()
    size = 0
    first: float | None = None
    t0 = time.monotonic()
    async with client.stream("GET", f"{base}/api/v1/files/{file_id}", headers=headers) as r:  # type: ignore[attr-defined]
        head = time.monotonic()
        if r.status_code != 200:
            raise UploadFailed(r.status_code, (await r.aread()).decode("utf-8", "replace"))
        async for chunk in r.aiter_raw():
            if first is None:
                first = time.monotonic()
            size += len(chunk)
            digest.update(chunk)
        out = {"status": r.status_code, "disposition": r.headers.get("content-disposition", ""),
               "nosniff": r.headers.get("x-content-type-options", "").lower() == "nosniff",
               "content_type": r.headers.get("content-type", ""),
               "etag": r.headers.get("etag", "").strip('"') or None}
    end = time.monotonic()
    return {**out, "bytes": size, "sha256": digest.hexdigest(), "total_s": end - t0, "requests": 1,
            "head_ms": 1000 * (head - t0), "ttfb_ms": None if first is None else 1000 * (first - t0)}


def http_client(connections: int) -> object:
    import httpx

    return httpx.AsyncClient(timeout=httpx.Timeout(1800.0),
                             limits=httpx.Limits(max_connections=connections + 2))


async def upload_one(port: int, token: str, payload: Payload, name: str, patch_bytes: int | None) -> dict:
    async with http_client(1) as client:  # type: ignore[attr-defined]
        return await upload(client, f"http://{HOST}:{port}", token, payload, name, patch_bytes)


async def download_one(port: int, token: str, file_id: str) -> dict:
    async with http_client(1) as client:  # type: ignore[attr-defined]
        return await download(client, f"http://{HOST}:{port}", token, file_id)


async def upload_many(port: int, tokens: list[str], payloads: list[Payload], patch_bytes: int | None,
                      pace: float | None = None) -> dict:
    """Each payload by its own member, all at once; the slowest decides the total time."""
    t0 = time.monotonic()
    async with http_client(len(payloads)) as client:  # type: ignore[attr-defined]
        done = await asyncio.gather(*(
            upload(client, f"http://{HOST}:{port}", token, p, f"bench-{i}.zip", patch_bytes, pace)
            for i, (token, p) in enumerate(zip(tokens, payloads, strict=True))), return_exceptions=True)
    failed = [d for d in done if isinstance(d, BaseException)]
    if failed:
        raise failed[0]
    each = [d for d in done if isinstance(d, dict)]
    return {"status": 201, "bytes": sum(p.size for p in payloads), "total_s": time.monotonic() - t0,
            "requests": sum(d["requests"] for d in each), "each_s": sorted(d["total_s"] for d in each),
            "resent_bytes": sum(d["resent_bytes"] for d in each), "part_size": each[0]["part_size"],
            "checked": all(file_checked(d["file"], p) for d, p in zip(each, payloads, strict=True))}


# ---------------------------------------------------------------------------------------------
# The S3 server


@contextlib.contextmanager
def s3_store(args: argparse.Namespace) -> Iterator[dict]:
    """The node's ECOLINK_S3_* settings for a fresh bucket: on a moto server started here (its
    own process, stopped afterwards), or on --s3-url (the bucket emptied and removed afterwards)."""
    from tests.support import services

    bucket = f"ecolink-bench-{int(time.time())}-{os.getpid()}"
    settings = {"ECOLINK_S3_BUCKET": bucket, "ECOLINK_S3_CREATE_BUCKET": "true", "ECOLINK_S3_REGION": "us-east-1",
                "ECOLINK_S3_ACCESS_KEY": args.s3_access_key, "ECOLINK_S3_SECRET_KEY": args.s3_secret_key}
    if args.s3_url:
        try:
            yield {"settings": {**settings, "ECOLINK_S3_URL": args.s3_url}, "pid": None,
                   "what": f"the S3-compatible store at {args.s3_url}"}
        finally:
            remove_bucket(args, bucket)
        return
    port = services.free_port()
    proc = subprocess.Popen([sys.executable, "-m", "bench.s3server", "--port", str(port)], cwd=nodes.REPO,
                            stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError("the moto S3 server did not start (is moto[server] installed? scripts/test installs it)")
            time.sleep(0.1)
        from importlib.metadata import version

        yield {"settings": {**settings, "ECOLINK_S3_URL": f"http://{HOST}:{port}"}, "pid": proc.pid,
               "what": f"moto {version('moto')} (ThreadedMotoServer in its own process, objects in memory "
                       "and temporary files)"}
    finally:
        nodes.stop(proc)


def remove_bucket(args: argparse.Namespace, bucket: str) -> None:
    """Empty and delete the run's bucket on --s3-url (cleanup must not hide the results)."""
    try:
        import botocore.session

        s3 = botocore.session.get_session().create_client(
            "s3", endpoint_url=args.s3_url, region_name="us-east-1", aws_access_key_id=args.s3_access_key,
            aws_secret_access_key=args.s3_secret_key,
            config=botocore.config.Config(s3={"addressing_style": "path"}))
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for u in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=o["Key"])
        s3.delete_bucket(Bucket=bucket)
    except Exception as exc:
        log(f"cleanup of bucket {bucket} failed: {exc}")


# ---------------------------------------------------------------------------------------------
# The run


def payloads(args: argparse.Namespace) -> tuple[Payload, list[Payload]]:
    """The big file and the concurrent ones, digested before anything is measured."""
    t0 = time.monotonic()
    big = Payload(args.size_mb * MIB, seed=1)
    small = [Payload(args.concurrent_mb * MIB, seed=100 + i) for i in range(args.concurrent)]
    for p in [big, *small]:
        p.digest()
    log(f"test files made and hashed in {time.monotonic() - t0:.1f} s")
    return big, small


def run(args: argparse.Namespace) -> Report:
    db_line = targets.prepare(args, ["postgres"], args.receivers + args.concurrent + 100)
    start_load = os.getloadavg()
    report = Report(NAME, machine_lines() + [
        db_line or "",
        f"- one node (`ecolink serve`, PostgreSQL + Redis) per storage backend, unpinned; a {args.size_mb:,} MiB "
        f"upload, its download, then {args.concurrent} uploads of {args.concurrent_mb:,} MiB at once, over HTTP "
        f"on 127.0.0.1; busy room `{LIVE_ROOM}`: {args.receivers} WebSocket receivers, a sender at "
        f"{args.live_rate:g}/s (load generator in its own process); {args.baseline_s:g} s baseline first, "
        f"{args.pause_s:g} s control after each step; node, load generator, S3 server and this process at "
        f"niceness {args.nice}, and so are this database's PostgreSQL backends",
    ])
    big, small = payloads(args)
    with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, args.nice)  # this process; the node, load generator and S3 server inherit it
    for storage in args.storage:
        log(f"--- storage: {STORAGE_LABEL[storage]}")
        results = run_storage(args, storage, big, small)
        before = results["other_cpu_before_pct"]
        report.environment.append(f"- {STORAGE_LABEL[storage]}: {results['store']}"
                                  + ("" if before is None else f"; other processes used {before:.0f} % of a core "
                                     "just before its node started (--quiet-wait)"))
        report.results[storage] = results
    end = os.getloadavg()
    report.environment.append(
        f"- load average {start_load[0]:.2f} / {start_load[1]:.2f} / {start_load[2]:.2f} at the start, "
        f"{end[0]:.2f} / {end[1]:.2f} / {end[2]:.2f} at the end (1 / 5 / 15 min; other work on the machine "
        "shows in the 'other CPU' column)")
    fill(report, args, big)
    return report


def run_storage(args: argparse.Namespace, storage: str, big: Payload, small: list[Payload]) -> dict:
    limit_mb = max(args.size_mb, args.concurrent_mb) + 1
    settings = {**targets.LIFTED_LIMITS, "ECOLINK_UPLOAD_MAX_MB": str(limit_mb),
                "ECOLINK_UPLOAD_QUOTA_MB": str(10 * (args.size_mb + args.concurrent_mb)), **dict(args.set)}
    busy = nodes.wait_quiet(args) if args.quiet_wait > 0 else None
    with contextlib.ExitStack() as stack:
        env = stack.enter_context(nodes.fresh_node_env("postgres", args, settings, tag=f"files-{storage}"))
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ecolink-files-bench-")))
        store = {"settings": {}, "pid": None, "what": f"{env.env['ECOLINK_DATA_DIR']}/files on "
                 f"{filesystem_of(Path(env.env['ECOLINK_DATA_DIR']))}"}
        if storage == "s3":
            store = stack.enter_context(s3_store(args))
        env.env.update(store["settings"])
        command = lambda port: nodes.serve_command(args, port)  # noqa: E731
        proc, port = stack.enter_context(nodes.running(command, env.env, None, f"node ({storage})"))
        from bench.wsload import register_users

        tokens = asyncio.run(register_users(HOST, port, 1 + args.concurrent, f"files-{storage}-{int(time.time())}"))
        results = measure(args, storage, env, proc.pid, store["pid"], port, tokens, big, small, tmp)
        results["store"] = store["what"]
        results["other_cpu_before_pct"] = busy
        return results


def filesystem_of(path: Path) -> str:
    """The file system type a folder lives on (from /proc/mounts), for the report."""
    best, kind = "", "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path.resolve()).startswith(parts[1]) and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
    return f"{kind} ({best or '?'})"


def measure(args: argparse.Namespace, storage: str, env: nodes.NodeEnv, node_pid: int, s3_pid: int | None,
            port: int, tokens: list[str], big: Payload, small: list[Payload], tmp: Path) -> dict:
    import httpx

    from bench.probes import CpuWindow, Sampler, ServerProbe, TreeProbe, profile_summary, profiler, renice_backends

    patch_bytes = args.patch_mb * MIB if args.patch_mb else None
    steps: list[dict] = []
    with BusyRoom(port, node_pid, LIVE_ROOM, args.receivers, args.live_rate, tmp) as busy:
        pg = TreeProbe(nodes.listening_pids(env.aux_ports), env.db_name)
        log(f"niceness {args.nice} for {renice_backends(pg, env.db_name, args.nice)} PostgreSQL backends of this run")
        node, s3 = ServerProbe(node_pid), ServerProbe(s3_pid)

        def step(label: str, go: Callable[[], Awaitable[dict]]) -> dict:
            renice_backends(pg, env.db_name, args.nice)  # the pool may have opened more
            others = {"loadgen": busy.pid, **({"s3": s3_pid} if s3_pid else {})}
            rss_before, s3_before = node.rss_bytes(), s3.rss_bytes()
            samplers = [Sampler(node_pid, args.sample_ms / 1000)] + ([Sampler(s3_pid, 0.5)] if s3_pid else [])
            cpu = CpuWindow(node_pid, pg, others)
            log(f"{label} ...")
            for s in samplers:
                s.start()
            spy = profiler(args, node_pid, f"{storage}-{len(steps) + 1}")
            cpu.start()
            s0 = time.monotonic_ns()
            try:
                result = asyncio.run(go())  # type: ignore[arg-type]
            except (UploadFailed, httpx.HTTPError) as exc:
                result = {"status": getattr(exc, "status", 0), "error": str(exc), "bytes": 0, "total_s": (time.monotonic_ns() - s0) / 1e9,
                          "requests": None}
            s1 = time.monotonic_ns()
            result.update(cpu.stop())
            peaks = [max(s.stop(), default=0) for s in samplers]
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
                spy.wait(60)
                result["profile"] = profile_summary(args.profile / f"{storage}-{len(steps) + 1}.txt",
                                                    result["wall_s"], PROFILE_BUCKETS)
                log(f"  node's GIL held, share of the wall time: {result['profile']}")
            time.sleep(1.0)
            result.update(label=label, window_ns=(s0, s1), rss_before=rss_before,
                          rss_peak=max(peaks[0], rss_before), rss_after=node.rss_bytes(),
                          s3_rss_before=s3_before if s3_pid else None, s3_rss_peak=peaks[1] if s3_pid else None,
                          s3_rss_after=s3.rss_bytes() if s3_pid else None)
            log(f"  HTTP {result['status']}, {result['bytes'] / MB:,.0f} MB in {result['total_s']:.1f} s "
                f"({result['bytes'] / MB / max(result['total_s'], 1e-9):.0f} MB/s), node RSS "
                f"{rss_before / MIB:.0f} -> peak {result['rss_peak'] / MIB:.0f} -> {result['rss_after'] / MIB:.0f} MiB, "
                f"node CPU {result['node_cpu_s']:.1f} s" + (f"; {result['error']}" if result.get("error") else ""))
            steps.append(result)
            busy.mark(label, s0, s1)
            busy.idle(f"after it, idle ({args.pause_s:g} s)", args.pause_s)
            return result

        busy.idle("baseline (no transfer)", args.baseline_s)
        size = f"{big.size / MIB:,.0f} MiB"
        up = step(f"upload {size}", lambda: upload_one(port, tokens[0], big, "bench-big.zip", patch_bytes))
        up.update(kind="upload", checked=file_checked(up.get("file"), big))
        if up["status"] == 201:
            down = step(f"download {size}", lambda: download_one(port, tokens[0], up["file"]["id"]))
            down.update(kind="download", checked=down.get("sha256") == big.sha256 and down.get("bytes") == big.size
                        and down.get("etag") in (None, big.sha256))
        many = step(f"{len(small)} uploads of {small[0].size / MIB:,.0f} MiB at once",
                    lambda: upload_many(port, tokens[1:], small, patch_bytes))
        many["kind"] = "concurrent"
        if args.paced_mbs:
            rate = args.paced_mbs * MB
            paced_step = step(f"{len(small)} uploads of {small[0].size / MIB:,.0f} MiB at once, each at "
                              f"{args.paced_mbs:g} MB/s", lambda: upload_many(port, tokens[1:], small, patch_bytes, rate))
            paced_step["kind"] = "concurrent"
        time.sleep(2.0)
        traffic = busy.finish()
    return {"steps": steps, **traffic}


# ---------------------------------------------------------------------------------------------
# Tables


def pct_of(seconds: float | None, wall: float) -> str:
    return "–" if seconds is None else f"{100 * seconds / wall:.0f} %"


def fill(report: Report, args: argparse.Namespace, big: Payload) -> None:
    rows, notes = [], []
    for storage in args.storage:
        r = report.results[storage]
        for s in r["steps"]:
            ok = s["status"] in (200, 201)
            wall = s["wall_s"]
            rows.append([
                STORAGE_LABEL[storage], s["label"], str(s["status"]) if ok else f"**{s['status']}**",
                fmt(s["bytes"] / MIB, 0) if ok else "–", fmt(s["requests"]), fmt(s["total_s"], 1),
                fmt(s["bytes"] / MB / s["total_s"], 0) if ok else "–",
                fmt(s["rss_before"] / MIB, 0), fmt(s["rss_peak"] / MIB, 0), fmt(s["rss_after"] / MIB, 0),
                pct_of(s["node_cpu_s"], wall), pct_of(s["pg_cpu_s"], wall), pct_of(s.get("s3_cpu_s"), wall),
                pct_of(s["bench_cpu_s"] + s["loadgen_cpu_s"], wall), pct_of(s["other_cpu_s"], wall),
                {True: "yes", False: "**no**", None: "–"}[s.get("checked") if ok else None],
            ])
            if not ok:
                notes.append(f"- {STORAGE_LABEL[storage]}, {s['label']}: {s['error']}")
            elif s["kind"] == "upload":
                notes.append(f"- {STORAGE_LABEL[storage]}, {s['label']}: {s['requests'] - 1:,} PATCHes of "
                             f"{s['patch_bytes'] / MIB:g} MiB (part size {s['part_size'] / MIB:g} MiB), each "
                             f"{s['patch_p50_ms']:.0f} ms at the median, {s['patch_max_ms']:.0f} ms at most before the last, "
                             f"the last (which completes the file) {s['last_patch_ms']:,.0f} ms; "
                             f"{s['resent_bytes']:,} bytes sent again")
            elif s["kind"] == "download":
                notes.append(f"- {STORAGE_LABEL[storage]}, {s['label']}: first byte after {fmt(s['ttfb_ms'], 0)} ms; "
                             f"Content-Type {s['content_type']}, {'nosniff' if s['nosniff'] else '**no nosniff**'}, "
                             f"Content-Disposition {s['disposition'].split(';')[0] or '**none**'}"
                             f"{' with the UTF-8 name' if 'filename*=' in s['disposition'] else ''}; SHA-256 of the bytes received "
                             f"{'matches' if s['checked'] else '**differs from**'} the bytes sent"
                             + (" and the ETag" if s.get("etag") else ""))
            else:
                each = s["each_s"]
                notes.append(f"- {STORAGE_LABEL[storage]}, {s['label']}: each took {each[0]:.1f}-{each[-1]:.1f} s "
                             f"(median {statistics.median(each):.1f} s); {s['resent_bytes']:,} bytes sent again")
            if s.get("s3_rss_peak"):
                notes.append(f"  - the S3 server's RSS: {s['s3_rss_before'] / MIB:,.0f} -> peak "
                             f"{s['s3_rss_peak'] / MIB:,.0f} -> {s['s3_rss_after'] / MIB:,.0f} MiB")
    report.add("Uploads and downloads", table(
        ["storage", "step", "HTTP", "MiB", "requests", "total s", "MB/s", "node RSS before MiB", "peak MiB",
         "after MiB", "node CPU", "PG CPU", "S3 server CPU", "bench CPU", "other CPU", "checked"], rows, 2))
    report.add("Transfer notes", "\n".join(notes))
    for storage in args.storage:
        r = report.results[storage]
        report.add(f"Busy room, {STORAGE_LABEL[storage]} ({r['live']['receivers']} receivers, "
                   f"{args.live_rate:g} messages/s)", period_table(r["periods"], r["live"]))
