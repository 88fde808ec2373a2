"""The pure parts of the abuse limits: which links a text holds (chat/rooms/abuse.py), what the
spam check compares, and the registration challenge's arithmetic (chat/accounts/challenge.py)."""

from __future__ import annotations

import hashlib

from chat.accounts.challenge import solve, work, zero_bits
from chat.config import Settings
from chat.rooms.abuse import link_hosts, own_hosts, text_digest


def test_link_hosts_finds_what_would_link_somewhere():
    assert link_hosts("see https://Spam.Example.com/offer?x=1, now") == {"spam.example.com"}
    assert link_hosts("[deal](http://user:pw@evil.test:8080/x)") == {"evil.test"}
    assert link_hosts("www.cheap-things.test.") == {"www.cheap-things.test"}
    assert link_hosts("[x](//evil.test/path)") == {"evil.test"}
    assert link_hosts("ftp://files.example.org and http://[::1]:80/") == {"files.example.org", "::1"}
    # No scheme and no www.: not a link (the renderer's fuzzy links are off); mail neither.
    assert link_hosts("example.org, a@b.cn, mailto:a@b.cn, 3.14 and // a comment") == set()


def test_own_hosts_are_the_public_url_the_bind_address_and_allowed_origins():
    settings = Settings(_env_file=None, public_url="https://chat.example.org/base",
                        allowed_origins="https://app.example.org")
    assert own_hosts(settings) == {"chat.example.org", "app.example.org"}
    assert own_hosts(Settings(_env_file=None)) == {"127.0.0.1"}


def test_the_spam_digest_folds_case_width_and_spacing_only():
    same = text_digest("Cheap  solar\npanels ")
    assert same == text_digest("cheap solar panels") == text_digest("ＣＨＥＡＰ solar panels")
    assert same != text_digest("cheap solar panel")
    assert text_digest("  \n ") is None


def test_zero_bits_and_a_solution():
    assert zero_bits(bytes(32)) == 256
    assert zero_bits(b"\x00\x0f" + bytes(30)) == 12
    assert zero_bits(b"\x80") == 0
    nonce = solve("8.1.abc.def", 8)
    assert zero_bits(work("8.1.abc.def", nonce)) >= 8
    assert work("c", "1") == hashlib.sha256(b"c:1").digest()
