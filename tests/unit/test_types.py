"""The code passes the project's type checker: mypy, strict on chat/ (pyproject.toml [tool.mypy])."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_nothing():
    result = subprocess.run([sys.executable, "-m", "mypy", "chat"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
