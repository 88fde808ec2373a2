"""Real PostgreSQL and Redis servers for the test suite. No mocks.

Where the shared servers come from
----------------------------------
`postgres_admin_dsn()` and `redis_url()` each pick the first of these that works, once per
process (the answer is cached, so a test run uses one server of each kind):

1. the URL in ``ECOLINK_TEST_DATABASE_URL`` / ``ECOLINK_TEST_REDIS_URL``, used as given;
2. PostgreSQL only: a throwaway cluster (step 4) whose files live in a RAM filesystem
   (``/dev/shm``, when it is a writable tmpfs with at least 1 GiB free);
3. the machine's own server: PostgreSQL on 127.0.0.1:5432 (user ``postgres``, trust auth,
   must be a superuser) / Redis on 127.0.0.1:6379 (must answer PING without a password);
4. a throwaway server started from local binaries (``initdb``/``pg_ctl`` from
   ``/usr/lib/postgresql/*/bin``; ``redis-server``), stopped and deleted at interpreter exit.

Why step 2 comes before the machine's server: every PostgreSQL test creates its own database
from a template and drops it after (about a thousand files each time), and on a disk
filesystem (ext4) the kernel's search for free inodes among the many just deleted became the
suite's largest single cost (measured: the contract tests took 104 s of wall time and 180 s of
CPU against the machine's server, 92 s against a throwaway cluster on disk, 52 s and 87 s with
its files in RAM). Each test process (pytest-xdist worker) starts its own cluster.
``ECOLINK_TEST_PG_IN_RAM=0`` skips step 2.

If none works they raise RuntimeError saying what to install or set. Tests never skip because a
service is missing: a missing service is a broken test environment, not a reason to pass.

`ThrowawayRedis` and `ThrowawayPostgres` always start private servers, for fault tests that
kill, pause or restart them without disturbing the shared ones.

S3 (the file storage backend, chat/blobs/s3.py): `s3_endpoint()` is ``ECOLINK_TEST_S3_URL`` when
set (a MinIO, say, with ``ECOLINK_TEST_S3_ACCESS_KEY`` / ``ECOLINK_TEST_S3_SECRET_KEY``), else a
`ThrowawayS3`: moto's S3 server (a real HTTP endpoint) in a thread of this process, on a free
loopback port, for the whole run. Tests take a bucket of their own (tests/conftest.py).

Environment variables
---------------------
``ECOLINK_TEST_DATABASE_URL``
    Superuser DSN to use instead of discovering a server (step 1).
``ECOLINK_TEST_REDIS_URL``
    Redis URL to use instead of discovering a server (step 1).
``ECOLINK_TEST_PG_IN_RAM=0``
    Skip step 2 (use the machine's PostgreSQL, or a throwaway cluster on disk).
``ECOLINK_TEST_FORCE_THROWAWAY=1``
    Skip steps 1 to 3 and always start throwaway servers. Lets a machine that runs both services
    (every developer machine here) exercise step 4, which is what a machine without them gets.
``ECOLINK_TEST_PG_BINDIR``
    Directory holding ``initdb`` and ``pg_ctl`` (default: newest ``/usr/lib/postgresql/*/bin``,
    then whatever ``initdb`` is on PATH).
``ECOLINK_TEST_REDIS_SERVER``
    Path of the ``redis-server`` binary (default: PATH, then ``/usr/bin/redis-server``).

Running as root
---------------
``initdb`` and ``postgres`` refuse to run as root, so when we are root every PostgreSQL command
runs as the ``postgres`` OS user through ``runuser -u postgres --`` and the cluster's directory is
chowned to that user. As any other user they run as that user directly. ``redis-server`` runs as
whoever we are.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import dataclasses
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg

__all__ = [
    "ENV_DATABASE_URL",
    "ENV_FORCE_THROWAWAY",
    "ENV_PG_IN_RAM",
    "ENV_REDIS_URL",
    "ThrowawayPostgres",
    "ThrowawayRedis",
    "ThrowawayS3",
    "S3Endpoint",
    "create_database",
    "database_dsn",
    "drop_database",
    "close_owned",
    "free_port",
    "postgres_admin_dsn",
    "redis_url",
    "s3_endpoint",
]

ENV_DATABASE_URL = "ECOLINK_TEST_DATABASE_URL"
ENV_REDIS_URL = "ECOLINK_TEST_REDIS_URL"
ENV_FORCE_THROWAWAY = "ECOLINK_TEST_FORCE_THROWAWAY"
ENV_PG_BINDIR = "ECOLINK_TEST_PG_BINDIR"
ENV_PG_IN_RAM = "ECOLINK_TEST_PG_IN_RAM"
RAM_DIR = Path("/dev/shm")
RAM_DIR_MIN_FREE = 1 << 30
ENV_REDIS_SERVER = "ECOLINK_TEST_REDIS_SERVER"
ENV_S3_URL = "ECOLINK_TEST_S3_URL"
ENV_S3_ACCESS_KEY = "ECOLINK_TEST_S3_ACCESS_KEY"
ENV_S3_SECRET_KEY = "ECOLINK_TEST_S3_SECRET_KEY"

HOST = "127.0.0.1"
LOCAL_POSTGRES_DSN = f"postgresql://postgres@{HOST}:5432/postgres"
LOCAL_REDIS_URL = f"redis://{HOST}:6379/0"

# PostgreSQL truncates longer identifiers (with only a NOTICE), which would make the DSN we
# return name a database that does not exist.
_MAX_IDENTIFIER_BYTES = 63


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago.

    The port is released before returning, so another process may take it first; callers that
    start a server on it should retry with a new port if binding fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _force_throwaway() -> bool:
    return _truthy(os.environ.get(ENV_FORCE_THROWAWAY))


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port (cheap pre-check before a driver)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _redis_ping(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if a Redis server on host:port answers PING with PONG.

    Speaks RESP over a plain socket so it works from sync code, inside or outside an event loop.
    A server that wants a password (-NOAUTH) or is still loading (-LOADING) counts as not ready.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _run_blocking(make_coro: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion from sync code and return its result.

    Uses a fresh event loop in a worker thread, because the caller may itself be running inside
    an event loop (an async fixture calling a sync helper), where asyncio.run() is refused.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coro())).result()


def _tail(path: Path, lines: int = 20) -> str:
    """Last lines of a log file, for error messages; empty if it cannot be read."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --------------------------------------------------------------------------------------------
# Redis
# --------------------------------------------------------------------------------------------


def _redis_server_binary() -> str:
    """Path of redis-server, or RuntimeError saying how to get one."""
    candidates = [os.environ.get(ENV_REDIS_SERVER), shutil.which("redis-server"), "/usr/bin/redis-server"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RuntimeError(
        "redis-server not found: install it (apt-get install redis-server), put it on PATH, "
        f"or set {ENV_REDIS_SERVER}"
    )


class ThrowawayRedis:
    """A private redis-server subprocess on 127.0.0.1, for tests that kill or restart Redis.

    Nothing is persisted (``--save "" --appendonly no``), so a restart comes back empty. The port
    is fixed for the life of the object: ``restart()`` reuses it, so clients holding ``url`` can
    reconnect. ``close()`` (also run by ``with`` and at interpreter exit) stops the server and
    deletes its directory.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 10.0,
    ) -> None:
        self._port = port if port is not None else free_port()
        self._port_fixed = port is not None
        self._extra_args = list(extra_args)
        self._startup_timeout = startup_timeout
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._ever_started = False
        self._atexit_registered = False

    # -- public API --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``; valid across restarts."""
        return f"redis://{HOST}:{self._port}/0"

    @property
    def pid(self) -> int | None:
        """PID of the running server, or None when stopped."""
        return self._proc.pid if self.running else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> ThrowawayRedis:
        """Start the server and return once it answers PING. No-op if already running.

        Raises RuntimeError (with the server's log tail) if it does not answer within
        ``startup_timeout`` seconds. Before the first successful start a port clash is retried
        on a new port; afterwards the port never changes.
        """
        if self.running:
            return self
        self._ensure_dir()
        attempts = 1 if (self._ever_started or self._port_fixed) else 3
        for attempt in range(attempts):
            try:
                self._spawn_and_wait()
                break
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                self._port = free_port()
        self._ever_started = True
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down gracefully (SIGTERM), falling back to SIGKILL after timeout."""
        self._signal_and_reap(signal.SIGTERM, timeout)

    def kill(self) -> None:
        """Kill the server abruptly (SIGKILL), like a crash: clients see connections drop."""
        self._signal_and_reap(signal.SIGKILL, 10.0)

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but nothing is answered."""
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Undo `pause()` (SIGCONT)."""
        if self.running:
            assert self._proc is not None
            self._proc.send_signal(signal.SIGCONT)

    def restart(self, *, hard: bool = False) -> ThrowawayRedis:
        """Stop (SIGKILL if ``hard``, else SIGTERM) and start again on the same port."""
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def close(self) -> None:
        """Stop the server and delete its directory. Idempotent."""
        self.kill()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> ThrowawayRedis:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ThrowawayRedis {self.url} {state}>"

    # -- internals ---------------------------------------------------------------------------

    def _ensure_dir(self) -> None:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="ecolink-redis-"))
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True

    def _spawn_and_wait(self) -> None:
        assert self._dir is not None
        log_path = self._dir / "redis.log"
        args = [
            _redis_server_binary(),
            "--port", str(self._port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(self._dir),
            *self._extra_args,
        ]  # fmt: skip
        with open(log_path, "ab") as log:
            # A new session keeps the terminal's Ctrl-C from killing it behind our back; close()
            # and the atexit hook are what stop it.
            self._proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if _redis_ping(HOST, self._port):
                return
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(
            f"redis-server on port {self._port} did not answer PING within "
            f"{self._startup_timeout:.0f}s. Log tail:\n{_tail(log_path)}"
        )

    def _signal_and_reap(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            if sig != signal.SIGKILL:
                # A paused server cannot act on SIGTERM; wake it first.
                proc.send_signal(signal.SIGCONT)
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self._proc = None


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def _pg_bindir() -> Path:
    """Directory with initdb and pg_ctl, or RuntimeError saying how to get them."""
    candidates: list[Path] = []
    if os.environ.get(ENV_PG_BINDIR):
        candidates.append(Path(os.environ[ENV_PG_BINDIR]))

    def version_key(path: str) -> tuple[int, ...]:
        # /usr/lib/postgresql/15/bin -> (15,); the newest major version wins.
        return tuple(int(p) for p in re.findall(r"\d+", Path(path).parent.name))

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)]
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if all(os.access(directory / tool, os.X_OK) for tool in ("initdb", "pg_ctl")):
            return directory
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them "
        f"(apt-get install postgresql) or set {ENV_PG_BINDIR}"
    )


def _postgres_os_user() -> pwd.struct_passwd | None:
    """The OS account to run PostgreSQL as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError(
            "running as root, where initdb refuses to run, and there is no 'postgres' OS user to "
            "run it as: install the postgresql package (it creates the user) or run as non-root"
        ) from None


PgStopMode = Literal["smart", "fast", "immediate"]


class ThrowawayPostgres:
    """A private PostgreSQL cluster on 127.0.0.1, for tests that stop or restart PostgreSQL.

    ``initdb`` runs once, on the first ``start()``, into a temp directory; later starts reuse the
    cluster, so data survives ``restart()`` (including ``mode="immediate"``, a simulated crash that
    runs WAL recovery on the next start). The superuser is ``postgres`` with trust auth on
    127.0.0.1 only; the unix socket lives inside the data directory so nothing touches
    /var/run/postgresql. The port is fixed for the life of the object.

    ``fsync=off`` by default for speed. That is safe here: it only loses data if the *OS* crashes,
    while the faults we simulate kill processes, and written WAL survives those in the page cache.
    (``synchronous_commit`` stays on: turning it off would lose acknowledged commits on an
    immediate stop, which fault tests must be able to rely on.)

    ``close()`` (also run by ``with`` and at interpreter exit) stops it and deletes the cluster.
    """

    DEFAULT_SETTINGS: dict[str, str] = {"fsync": "off"}

    def __init__(
        self,
        port: int | None = None,
        *,
        settings: dict[str, str] | None = None,
        startup_timeout: float = 60.0,
        parent_dir: Path | None = None,
    ) -> None:
        self._parent_dir = parent_dir  # where its temp directory goes (default: the system's)
        self._port = port if port is not None else free_port()
        self._port_fixed = port is not None
        self._settings = {**self.DEFAULT_SETTINGS, **(settings or {})}
        self._startup_timeout = startup_timeout
        self._base: Path | None = None
        self._bindir = Path()  # set by _ensure_cluster() before any pg_ctl call
        self._running = False
        self._ever_started = False
        self._atexit_registered = False

    # -- public API --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def dsn(self) -> str:
        """Superuser DSN for the ``postgres`` database; valid across restarts."""
        return f"postgresql://postgres@{HOST}:{self._port}/postgres"

    @property
    def data_dir(self) -> Path | None:
        """The cluster's data directory, or None before the first start."""
        return self._base / "data" if self._base is not None else None

    @property
    def log_path(self) -> Path | None:
        return self._base / "postgres.log" if self._base is not None else None

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> ThrowawayPostgres:
        """Start the server (running ``initdb`` first if needed); return once it accepts connections.

        No-op if already running. Raises RuntimeError with the server's log tail on failure.
        Before the first successful start a port clash is retried on a new port.
        """
        if self._running:
            return self
        self._ensure_cluster()
        attempts = 1 if (self._ever_started or self._port_fixed) else 3
        for attempt in range(attempts):
            try:
                self._pg_ctl_start()
                break
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                self._port = free_port()
        self._running = True
        self._ever_started = True
        return self

    def stop(self, mode: PgStopMode = "fast") -> None:
        """Stop the server and wait until it is gone. No-op if not running.

        ``fast`` disconnects clients and shuts down cleanly; ``immediate`` aborts without a
        checkpoint, like a crash, so the next start runs recovery.
        """
        if not self._running:
            return
        self._pg_ctl("stop", "-m", mode)
        self._running = False

    def restart(self, mode: PgStopMode = "fast") -> ThrowawayPostgres:
        """`stop(mode)` then `start()` on the same port."""
        self.stop(mode)
        return self.start()

    def close(self) -> None:
        """Stop the server (immediately) and delete the cluster. Idempotent."""
        if self._running:
            try:
                self.stop("immediate")
            except RuntimeError:
                pass  # Best effort: we are throwing the cluster away anyway.
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<ThrowawayPostgres {self.dsn} {state}>"

    # -- internals ---------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        """args prefixed so they run as the postgres OS user when we are root."""
        if _postgres_os_user() is None:
            return list(args)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", "postgres", "--", *args]

    def _run(self, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        assert self._base is not None
        # cwd inside our own directory: as the postgres user, the caller's cwd (e.g. /root) may be
        # unreadable, and pg_ctl fails on that.
        return subprocess.run(
            self._command(*args), cwd=self._base, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def _ensure_cluster(self) -> None:
        if self._base is not None:
            return
        bindir = _pg_bindir()
        owner = _postgres_os_user()
        base = Path(tempfile.mkdtemp(prefix="ecolink-pg-", dir=self._parent_dir))
        if owner is not None:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        self._base = base
        self._bindir = bindir
        if not self._atexit_registered:
            atexit.register(self.close)
            self._atexit_registered = True
        result = self._run(
            str(bindir / "initdb"), "-D", str(base / "data"), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
            timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            self.close()
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")

    def _pg_ctl_start(self) -> None:
        assert self.data_dir is not None and self.log_path is not None
        server_args = [
            "-p", str(self._port),
            "-k", str(self.data_dir),
            "-c", f"listen_addresses={HOST}",
        ]  # fmt: skip
        for key, value in self._settings.items():
            server_args += ["-c", f"{key}={value}"]
        # pg_ctl hands -o to a shell, hence the quoting. -l matters beyond logging: without it the
        # postmaster inherits our capture pipes and subprocess.run() would wait on it forever.
        result = self._run(
            str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_path),
            "-w", "-t", str(int(self._startup_timeout)), "-o", shlex.join(server_args), "start",
            timeout=self._startup_timeout + 10,
        )  # fmt: skip
        if result.returncode != 0:
            # A half-started postmaster must not keep the data directory locked.
            self._run(str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop", timeout=30)
            raise RuntimeError(
                f"PostgreSQL did not start on port {self._port} ({result.returncode}):\n"
                f"{result.stderr}\nLog tail:\n{_tail(self.log_path)}"
            )

    def _pg_ctl(self, action: str, *extra: str) -> None:
        assert self.data_dir is not None
        result = self._run(
            str(self._bindir / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", *extra, action,
            timeout=70,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {action} failed ({result.returncode}):\n{result.stderr}")


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class S3Endpoint:
    """Where an S3-compatible server answers, and the keys to sign requests with."""

    url: str
    access_key: str
    secret_key: str


class ThrowawayS3:
    """moto's S3 server (moto.server.ThreadedMotoServer) on 127.0.0.1: a real HTTP S3 endpoint,
    in a daemon thread of this process, holding everything in memory. moto accepts any keys."""

    access_key = "ecolink-test"
    secret_key = "ecolink-test-secret"

    def __init__(self) -> None:
        self._server: Any = None
        self._port = 0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._port}"

    @property
    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(self.url, self.access_key, self.secret_key)

    def start(self, startup_timeout: float = 10.0) -> ThrowawayS3:
        from moto.server import ThreadedMotoServer

        # Port 0: the OS picks a free port as the server binds it, so no other process can take
        # it in between (a bind failure inside moto's thread would leave start() waiting forever).
        server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        server.start()
        self._server = server
        self._port = server.get_host_and_port()[1]
        deadline = time.monotonic() + startup_timeout
        while not _port_open(HOST, self._port):
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"moto's S3 server did not listen on port {self._port}")
            time.sleep(0.02)
        atexit.register(self.close)
        return self

    def close(self) -> None:
        """Stop the server (idempotent)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> ThrowawayS3:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _discover_s3() -> str:
    if os.environ.get(ENV_S3_URL):
        return os.environ[ENV_S3_URL]
    server = ThrowawayS3().start()
    _owned.append(server)
    return server.url


def s3_endpoint() -> S3Endpoint:
    """The run's S3 server: ``ECOLINK_TEST_S3_URL`` (keys from ``ECOLINK_TEST_S3_ACCESS_KEY`` /
    ``_SECRET_KEY``) or a ThrowawayS3 started once per process."""
    url = _cached("s3", _discover_s3)
    if os.environ.get(ENV_S3_URL):
        return S3Endpoint(url, os.environ.get(ENV_S3_ACCESS_KEY, "minioadmin"),
                          os.environ.get(ENV_S3_SECRET_KEY, "minioadmin"))
    return S3Endpoint(url, ThrowawayS3.access_key, ThrowawayS3.secret_key)


async def drop_bucket(endpoint: S3Endpoint, bucket: str) -> None:
    """Delete a test's bucket with its objects and unfinished uploads (nothing when it is gone)."""
    from aiobotocore.config import AioConfig
    from aiobotocore.session import get_session
    from botocore.exceptions import ClientError

    config = AioConfig(s3={"addressing_style": "path"})
    async with get_session().create_client(
        "s3", endpoint_url=endpoint.url, region_name="us-east-1", config=config,
        aws_access_key_id=endpoint.access_key, aws_secret_access_key=endpoint.secret_key,
    ) as client:  # fmt: skip
        try:
            uploads = await client.list_multipart_uploads(Bucket=bucket)
            for upload in uploads.get("Uploads", []):
                await client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"],
                                                    UploadId=upload["UploadId"])
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    await client.delete_object(Bucket=bucket, Key=item["Key"])
            await client.delete_bucket(Bucket=bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"NoSuchBucket", "404"}:
                raise


def drop_bucket_blocking(endpoint: S3Endpoint, bucket: str) -> None:
    """drop_bucket from sync code (a fixture's teardown), on a loop of its own."""
    _run_blocking(lambda: drop_bucket(endpoint, bucket))


# --------------------------------------------------------------------------------------------
# Shared, cached servers for the whole test run
# --------------------------------------------------------------------------------------------

_lock = threading.Lock()
_cache: dict[str, str | BaseException] = {}
# Throwaway servers behind the cached URLs; referenced here so they live until exit.
_owned: list[ThrowawayPostgres | ThrowawayRedis | ThrowawayS3] = []


def close_owned() -> None:
    """Stop and delete the throwaway servers behind the cached URLs (tests/conftest.py calls it
    as pytest ends: a pytest-xdist worker can leave without running its atexit handlers)."""
    while _owned:
        _owned.pop().close()
    with _lock:
        _cache.clear()


def _cached(key: str, discover: Callable[[], str]) -> str:
    """discover() once per process; later calls return its answer or re-raise its error.

    Caching the error too keeps a run without a service failing fast in every test, instead of
    each test retrying a slow server start.
    """
    with _lock:
        if key not in _cache:
            try:
                _cache[key] = discover()
            except Exception as exc:  # not KeyboardInterrupt: a retry should start afresh
                _cache[key] = exc
        value = _cache[key]
    if isinstance(value, BaseException):
        raise value
    return value


async def _is_superuser(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        return bool(await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    finally:
        await conn.close()


def _local_postgres_usable() -> bool:
    if not _port_open(HOST, 5432):
        return False
    try:
        return _run_blocking(lambda: _is_superuser(LOCAL_POSTGRES_DSN))
    except Exception:
        return False


def _ram_dir() -> Path | None:
    """/dev/shm when it is a writable tmpfs with room for a cluster (step 2), else None."""
    if not _truthy(os.environ.get(ENV_PG_IN_RAM, "1")):
        return None
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            tmpfs = any(f[1] == str(RAM_DIR) and f[2] == "tmpfs" for f in (line.split() for line in mounts))
        stat = os.statvfs(RAM_DIR)
    except OSError:
        return None
    roomy = stat.f_bavail * stat.f_frsize >= RAM_DIR_MIN_FREE
    return RAM_DIR if tmpfs and roomy and os.access(RAM_DIR, os.W_OK) else None


def _ram_postgres() -> str | None:
    """Step 2: a throwaway cluster in RAM, or None (and step 3 goes on) if it cannot start."""
    ram = _ram_dir()
    if ram is None:
        return None
    # WAL in RAM: checkpoints keep it to a few hundred MB however many databases are copied.
    server = ThrowawayPostgres(parent_dir=ram, settings={"max_wal_size": "256MB", "min_wal_size": "64MB"})
    try:
        server.start()
    except Exception:
        server.close()
        return None
    _owned.append(server)
    return server.dsn


def _discover_postgres() -> str:
    if not _force_throwaway():
        if os.environ.get(ENV_DATABASE_URL):
            return os.environ[ENV_DATABASE_URL]
        if in_ram := _ram_postgres():
            return in_ram
        if _local_postgres_usable():
            return LOCAL_POSTGRES_DSN
    server = ThrowawayPostgres()
    try:
        server.start()
    except Exception as exc:
        server.close()
        raise RuntimeError(
            "No PostgreSQL for the tests. Set ECOLINK_TEST_DATABASE_URL to a superuser DSN, run a "
            "server on 127.0.0.1:5432 (user postgres, trust auth), or install the postgresql "
            f"package so a throwaway cluster can be started. Throwaway start failed: {exc}"
        ) from exc
    _owned.append(server)
    return server.dsn


def _discover_redis() -> str:
    if not _force_throwaway():
        if os.environ.get(ENV_REDIS_URL):
            return os.environ[ENV_REDIS_URL]
        if _redis_ping(HOST, 6379):
            return LOCAL_REDIS_URL
    server = ThrowawayRedis()
    try:
        server.start()
    except Exception as exc:
        server.close()
        raise RuntimeError(
            "No Redis for the tests. Set ECOLINK_TEST_REDIS_URL, run a server on 127.0.0.1:6379 "
            "without a password, or install redis-server so a throwaway one can be started. "
            f"Throwaway start failed: {exc}"
        ) from exc
    _owned.append(server)
    return server.url


def postgres_admin_dsn() -> str:
    """DSN of a superuser connection to the ``postgres`` database of a running server.

    Env URL, else 127.0.0.1:5432, else a throwaway cluster (see the module docstring). The same
    answer for the whole process. Raises RuntimeError if no server can be had. Safe to call from
    sync code and from inside a running event loop.
    """
    return _cached("postgres", _discover_postgres)


def redis_url() -> str:
    """URL of a running Redis server that answers PING.

    Env URL, else 127.0.0.1:6379, else a throwaway server (see the module docstring). The same
    answer for the whole process. Raises RuntimeError if no server can be had. The server is
    shared: tests should use their own key prefixes or database numbers rather than FLUSHALL.
    """
    return _cached("redis", _discover_redis)


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _check_name(name: str) -> None:
    if not name or "\x00" in name or len(name.encode()) > _MAX_IDENTIFIER_BYTES:
        raise ValueError(f"invalid database name {name!r}: 1..{_MAX_IDENTIFIER_BYTES} bytes, no NUL")


def database_dsn(admin_dsn: str, name: str) -> str:
    """admin_dsn with its database replaced by ``name`` (URL or ``key=value`` DSN form)."""
    if "://" in admin_dsn:
        parts = urlsplit(admin_dsn)
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    # libpq keyword/value form: replace dbname=..., or add it.
    value = "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"
    pattern = re.compile(r"(^|\s)dbname\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
    if pattern.search(admin_dsn):
        return pattern.sub(lambda m: f"{m.group(1)}dbname={value}", admin_dsn, count=1)
    return f"{admin_dsn} dbname={value}"


async def create_database(admin_dsn: str, name: str, template: str | None = None) -> str:
    """Create database ``name`` and return a DSN for it (same server and user as admin_dsn).

    Without a template the database is made from ``template0`` with UTF8 and the ``C.UTF-8``
    locale, so every server (local or throwaway) gives the same text behaviour; pg_trgm, for
    one, ignores Chinese under LC_CTYPE ``C``. With a template it is a copy of that database,
    which PostgreSQL requires to have no other connections at that moment.
    Raises asyncpg.DuplicateDatabaseError if it exists.
    """
    _check_name(name)
    if template is None:
        source = "TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
    else:
        _check_name(template)
        source = f"TEMPLATE {_quote_ident(template)}"
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f"CREATE DATABASE {_quote_ident(name)} {source}")
    finally:
        await conn.close()
    return database_dsn(admin_dsn, name)


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, disconnecting anyone still connected (WITH (FORCE))."""
    _check_name(name)
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()
