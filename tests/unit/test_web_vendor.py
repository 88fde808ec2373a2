"""The vendored browser libraries are exactly the files web/vendor/VENDOR.md lists, byte for
byte; and the two dictionaries of the client have the same keys."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
ROW = re.compile(r"^\| `([^`]+)` \| (\S+) \| (\S+) \| `([^`]+)` \| `([0-9a-f]{64})` \|$", re.M)


def listed() -> dict[str, str]:
    text = (WEB / "vendor" / "VENDOR.md").read_text()
    return {path: digest for path, _name, _version, _source, digest in ROW.findall(text)}


def test_every_vendored_file_matches_its_checksum():
    rows = listed()
    assert len(rows) >= 8
    for path, digest in rows.items():
        data = (WEB / "vendor" / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"web/vendor/{path} changed; update VENDOR.md"


def test_no_unlisted_file_in_vendor():
    present = {p.relative_to(WEB / "vendor").as_posix()
               for p in (WEB / "vendor").rglob("*") if p.is_file() and p.name != "VENDOR.md"}
    assert present == set(listed())


def test_vendored_code_has_no_eval():
    for path in listed():
        if path.endswith(("js", "mjs")):
            text = (WEB / "vendor" / path).read_text()
            assert "eval(" not in text and "new Function" not in text, path


def test_both_dictionaries_have_the_same_keys():
    source = (WEB / "src" / "i18n.js").read_text()
    blocks = dict(re.findall(r"^const (en|zh) = \{(.*?)^\};", source, re.S | re.M))
    keys = {lang: set(re.findall(r'"([a-z_.]+)":', body)) for lang, body in blocks.items()}
    assert keys["en"] and keys["en"] == keys["zh"]


def test_every_key_the_client_uses_is_defined():
    source = (WEB / "src" / "i18n.js").read_text()
    defined = set(re.findall(r'"([a-z_]+\.[a-z_.]+|notfound)":', source))
    used = set()
    for module in (WEB / "src").rglob("*.js"):
        used |= set(re.findall(r'\bt\("([a-z_]+\.[a-z_.]+|notfound)"', module.read_text()))
    assert used and used <= defined, sorted(used - defined)
