"""Schemathesis against a running node (issue 16, case 10): the short run of the test command
(tests/e2e/test_api_fuzz.py) and the long one of `scripts/bench apifuzz` share this. The
command line runs in its own process (it is synchronous), so the node keeps serving in this
event loop."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# Operations that would end the fuzzer's own session or account: each is covered by its own
# e2e tests (tests/e2e/test_auth.py, test_account_deletion.py, test_account_recovery.py).
EXCLUDED = [
    ("DELETE", "/api/v1/sessions"),
    ("POST", "/api/v1/account/delete"),
    ("POST", "/api/v1/account/sessions/end-others"),
    ("DELETE", "/api/v1/account/sessions/{session}"),  # it learns its own session's id, and ends it
]
# No 5xx; status, content type, headers and body as documented; invalid data refused (4xx).
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance,negative_data_rejection")
REFUSALS = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429)
# The rate budgets a member's requests are charged against, opened wide: the fuzzer is one
# member sending thousands of requests (the budgets have their own tests).
OPEN_LIMITS = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000}


def operations() -> int:
    """The operations the run covers: the document's, less the excluded."""
    return sum(len(ops) for ops in json.loads(DOC.read_text())["paths"].values()) - len(EXCLUDED)


async def fuzz(base_url: str, token: str, workdir: Path, *, examples: int, phases: str,
               seed: int = 16) -> tuple[int, str]:
    """Run schemathesis on the node as the member whose session `token` is; (exit code, its
    output). Its files (reports, Hypothesis' database) stay in `workdir`."""
    command = [str(Path(sys.executable).parent / "st"), "run", str(DOC), "--url", base_url,
               "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--phases", phases,
               "--max-examples", str(examples), "--seed", str(seed), "--workers", "2", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off",
               "--report", "junit", "--report-dir", str(workdir / "report")]
    for method, path in EXCLUDED:
        command += ["--exclude-name", f"{method} {path}"]
    # Invalid data is refused with a 4xx: 413 (a body past its route's bound) is one too.
    config = workdir / "schemathesis.toml"
    statuses = ", ".join(f'"{status}"' for status in REFUSALS)
    config.write_text(f"[checks.negative_data_rejection]\nexpected-statuses = [{statuses}]\n")
    command[1:1] = ["--config-file", str(config)]  # an option of `st` itself, before `run`
    process = await asyncio.create_subprocess_exec(
        *command, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "NO_COLOR": "1"})
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


def generated(output: str) -> int:
    """How many test cases the run generated (its summary line)."""
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0
