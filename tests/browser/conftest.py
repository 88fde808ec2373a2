"""Browser tests: Debian's Chromium driven by Playwright's async API (pytest-playwright-asyncio),
never a downloaded browser (Debian's chromium). Everything runs in the session event loop, like the
nodes the tests start (tests/support/nodes.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support.nodes import running_nodes

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
# Screenshots land in build/screenshots (ignored by git), so a test run changes no tracked file.
# Refresh the README's: ECOLINK_SCREENSHOTS_DIR=docs/screenshots scripts/test tests/browser
SCREENSHOTS = ROOT / os.environ.get("ECOLINK_SCREENSHOTS_DIR", "build/screenshots")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # In CI (scripts/test installs chromium) a missing browser is a failure, never a skip.
    if os.environ.get("CI") != "true" and shutil.which("chromium") is None and not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason="Debian's chromium is not installed (scripts/test installs it)")
        for item in items:
            if "tests/browser/" in str(item.fspath).replace("\\", "/"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # The offline shell's service worker costs each new context a third more of Chromium's CPU
    # (it installs, fetches the page and every module it names, and stores them) and serves no
    # test but those of the offline start, which ask for it with
    # @pytest.mark.browser_context_args(service_workers="allow").
    return {**browser_context_args, "service_workers": "block"}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
async def two_nodes(production):
    """Two production nodes (PostgreSQL + Redis) sharing one database and one Redis."""
    async with running_nodes(production(), production()) as nodes:
        yield nodes
