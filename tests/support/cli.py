"""The real `ecolink` console script as a subprocess: one command to its exit, or `ecolink
serve` running until the test stops it with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support import services
from tests.support.timing import timeout

ECOLINK = Path(sys.executable).with_name("ecolink")  # the installed console script


def cli_env(**variables: str) -> dict[str, str]:
    """The test's environment without any ECOLINK_* setting, plus `variables`; wide, plain
    output so messages are not wrapped or coloured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOLINK_")}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb", ECOLINK_ARGON2_PROFILE="cheapest")
    env.update(variables)
    return env


@dataclass
class Result:
    code: int
    out: str  # stdout and stderr, whitespace collapsed (rich wraps and boxes lines)
    stdout: str
    stdout_bytes: bytes = b""  # as written (an export's zip on stdout is no text)


def _result(code: int, stdout: bytes, stderr: bytes) -> Result:
    text = stdout.decode(errors="replace") + "\n" + stderr.decode(errors="replace")
    return Result(code, " ".join(text.replace("│", " ").split()), stdout.decode(errors="replace"), stdout)


def ecolink_in_process(*args: str, env: dict[str, str] | None = None) -> Result:
    """The same command through typer's CliRunner in this process: for arguments refused before
    any store, log set-up or event loop (parsing, checking files), where a subprocess would
    only add ~0.5 s of interpreter start-up and imports. The environment is `env` (cli_env's),
    with every other ECOLINK_* variable of this process unset while it runs."""
    from typer.testing import CliRunner

    from chat.cli import app

    env = env or cli_env()
    overrides: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ECOLINK_") and k not in env}
    overrides.update(env)
    result = CliRunner().invoke(app, list(args), env=overrides)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return _result(result.exit_code, result.stdout_bytes, result.stderr_bytes or b"")


async def ecolink(*args: str, env: dict[str, str] | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        str(ECOLINK), *args, env=env or cli_env(), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout(60))
    assert proc.returncode is not None
    return _result(proc.returncode, stdout, stderr)


@dataclass
class Served:
    proc: asyncio.subprocess.Process
    url: str
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"

    def output(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    async def stop(self) -> int:
        """SIGTERM, then the exit code (the wait is bounded: a hang fails the test)."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout(20))
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError("`ecolink serve` did not exit after SIGTERM:\n" + self.output()) from None


@contextlib.asynccontextmanager
async def ecolink_serve(data_dir: Path, **variables: str) -> AsyncIterator[Served]:
    """`ecolink serve` on a free port, output to a file; yields once /readyz says ready."""
    port = services.free_port()
    log_path = data_dir.parent / f"serve-{port}.log"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        proc = await asyncio.create_subprocess_exec(
            str(ECOLINK), "serve", "--port", str(port), "--data-dir", str(data_dir),
            env=cli_env(**variables), stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    served = Served(proc, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = asyncio.get_running_loop().time() + timeout(30)
        async with httpx.AsyncClient(base_url=served.url, timeout=timeout(5)) as http:
            while True:
                if proc.returncode is not None:
                    raise AssertionError(f"`ecolink serve` exited with {proc.returncode}:\n{served.output()}")
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError("`ecolink serve` never became ready:\n" + served.output())
                await asyncio.sleep(0.05)
        yield served
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
