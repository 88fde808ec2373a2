"""HTTP API fuzzing from the OpenAPI document (issue 16, case 10): schemathesis, run as its
command line against a real production node over a real socket, signed in as a member, with a
bounded number of examples per operation. Checks: no 5xx, every response (status, headers and
body) conforms to docs/openapi.json, and data the document calls invalid is refused with a 4xx.
docs/reliability.md, section 10, records the operations fuzzed and what it found."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.support.client import bearer, http_client, register
from tests.support.nodes import running_nodes

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# Operations that would end the fuzzer's own session or account: each is covered by its own
# e2e tests (tests/e2e/test_auth.py, test_account_deletion.py, test_account_recovery.py).
EXCLUDED = [
    ("DELETE", "/api/v1/sessions"),
    ("POST", "/api/v1/account/delete"),
    ("POST", "/api/v1/account/sessions/end-others"),
    ("DELETE", "/api/v1/account/sessions/{session}"),  # it learns its own session's id, and ends it
]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection"
EXAMPLES_PER_OPERATION = 1


async def fuzz(base_url: str, token: str, workdir: Path, *, examples: int, phases: str) -> tuple[int, str]:
    """Run schemathesis on the node; (exit code, its output). Reports go to `workdir`."""
    command = [str(Path(sys.executable).parent / "st"), "run", str(DOC), "--url", base_url,
               "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--phases", phases,
               "--max-examples", str(examples), "--seed", "16", "--workers", "2", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off",
               "--report", "junit", "--report-dir", str(workdir / "report")]
    for method, path in EXCLUDED:
        command += ["--exclude-name", f"{method} {path}"]
    process = await asyncio.create_subprocess_exec(
        *command, cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""})
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


async def test_the_api_holds_to_its_document_under_fuzzing(production, tmp_path):
    limits = {"member_rate_per_s": 100_000, "member_rate_burst": 100_000}
    async with running_nodes(production(**limits)) as [node]:
        member = await register(node.url, "Fuzzer")
        # What the fuzzing found, pinned: a non-ASCII signature in an unsubscribe link was a
        # 500 (hmac.compare_digest refuses non-ASCII text); a superscript digit as the member.
        async with http_client(node.url) as http:
            for query in ("u=7092366162&k=digest&t=%F2%AC%A5%B6%40z", "u=%C2%B2&k=digest&t=abc"):
                for method in ("GET", "POST"):
                    refused = await http.request(method, f"/api/v1/mail/unsubscribe?{query}")
                    assert refused.status_code == 400, (method, query, refused.status_code)
                    assert "not valid" in refused.text
        code, output = await fuzz(node.url, member["token"], tmp_path, examples=EXAMPLES_PER_OPERATION,
                                  phases="examples,fuzzing")
        assert code == 0, output[-20000:]
        operations = sum(len(ops) for ops in json.loads(DOC.read_text())["paths"].values())
        assert f"Tested: {operations - len(EXCLUDED)}" in output, output[-3000:]
        # The fuzzer's session lived through it all (nothing it sent ended it).
        async with http_client(node.url) as http:
            assert (await http.get("/api/v1/me", headers=bearer(member["token"]))).status_code == 200
