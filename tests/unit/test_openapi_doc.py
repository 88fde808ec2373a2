"""docs/openapi.json is the document the code generates (docs/api.md says how to refresh it)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_matches_the_code():
    generated = subprocess.run(
        [sys.executable, "-c", "from chat.cli import main; main()", "openapi"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    committed = (ROOT / "docs" / "openapi.json").read_text("utf-8")
    assert json.loads(generated) == json.loads(committed), (
        "docs/openapi.json is stale: run `.venv/bin/ecolink openapi > docs/openapi.json`")


def test_every_api_route_is_documented():
    paths = json.loads((ROOT / "docs" / "openapi.json").read_text("utf-8"))["paths"]
    assert set(paths["/api/v1/sessions"]) == {"get", "post", "delete"}
    for path in ("/api/v1/accounts", "/api/v1/rooms", "/api/v1/rooms/{room}/messages", "/api/v1/me"):
        assert path in paths
        for operation in paths[path].values():
            assert operation["summary"] and "responses" in operation
