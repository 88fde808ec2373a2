"""The docs name every setting and every close code the code has."""

from pathlib import Path

from chat.config import Settings
from chat.protocol import closecodes

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_operations_lists_every_setting():
    text = (DOCS / "operations.md").read_text("utf-8")
    missing = [f"ECOLINK_{name.upper()}" for name in Settings.model_fields
               if f"`ECOLINK_{name.upper()}`" not in text]
    assert not missing, f"docs/operations.md does not document {missing}"


def test_protocol_lists_every_close_code():
    text = (DOCS / "protocol.md").read_text("utf-8")
    codes = [value for name, value in vars(closecodes).items() if name.isupper()]
    assert codes and all(f"| {code} |" in text for code in codes)


def test_the_design_lives_in_the_repository():
    """docs/architecture.md is the design of record: it numbers the invariants the code cites,
    and no tracked file points at design notes kept outside the repository."""
    import subprocess

    text = (DOCS / "architecture.md").read_text("utf-8")
    assert all(f"\n{number}. **" in text for number in range(1, 9))
    outside = ["DESIGN" + ".md", "STYLE" + ".md", "NOTES" + ".md", "../" + "shared"]
    found = subprocess.run(["git", "grep", "-n", "-F", *sum((["-e", name] for name in outside), [])],
                           cwd=DOCS.parent, capture_output=True, text=True)
    assert found.returncode == 1, found.stdout
