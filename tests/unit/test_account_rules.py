"""Account rules as values: canonical emails, reserved display names, password rules, and the
author's role in message frames (no I/O)."""

from __future__ import annotations

import pytest

from chat.accounts.emails import EmailProblem, canonical_email
from chat.accounts.names import is_reserved_name, skeleton
from chat.accounts.password_rules import common_passwords, password_problem
from chat.accounts.service import display_name_problem
from chat.models import Message
from chat.protocol.frames import message_frame
from chat.text import is_mixed_script


@pytest.mark.parametrize(("typed", "stored"), [
    ("Ann.Li@Example.TEST", "ann.li@example.test"),
    ("ann@example.test.", "ann@example.test"),
    ("ａｎｎ@ｅｘａｍｐｌｅ.ｔｅｓｔ", "ann@example.test"),
    ("  user+tag@x.test ", "user+tag@x.test"),
    ("u@xn--fsqu00a.xn--fiqs8s", "u@例子.中国"),
    ("王芳@例子.中国", "王芳@例子.中国"),
    ("иван@пример.рф", "иван@пример.рф"),
    ("o'brien@example.ie", "o'brien@example.ie"),
])
def test_canonical_emails(typed, stored):
    assert canonical_email(typed) == stored


@pytest.mark.parametrize("typed", [
    "an\u200bn@x.test", "ann@x\u200d.test", "ann\u00ad@x.test", "ann\u202e@x.test", "a\x00@x.test",
    "\u0430nn@example.test", "ann@ex\u0430mple.test", "ann@\u03bfk.test", "<script>@x.test",
    '"a b"@x.test', "a b@x.test", "a..b@x.test", ".a@x.test", "a.@x.test", "a@b", "a@@x.test",
    "@x.test", "a@", "a@x_y.test", "a@1.2.3.4", "a@-x.test", "x" * 65 + "@x.test",
    "a@" + "x" * 250 + ".test", "ann@x.test\ud800",
])
def test_refused_emails(typed):
    with pytest.raises(EmailProblem):
        canonical_email(typed)


def test_mixed_scripts():
    assert is_mixed_script("p\u0430ypal") and is_mixed_script("\u0391dmin")
    assert not any(map(is_mixed_script, ("paypal", "例子", "中文abc", "ひらがな漢字", "пример", "한국어")))


@pytest.mark.parametrize("name", [
    "Admin", "admin", "ＡＤＭＩＮ", "\u0410dmin", "\u0391dmin", "Ad-min", "a d m i n", "adm1n",
    "Admln", "The Admin", "admin2", "𝐀𝐝𝐦𝐢𝐧", "Administrator", "MODERATOR", "m0derator",
    "System", "EcoLink", "EC-Link", "EC Link", "ecolink team", "Support", "supp\u03bfrt", "Staff",
    "管理员", "管理員", "管理员小王", "管 理 员", "版主", "客服", "系统", "系統",
])
def test_reserved_names(name):
    assert is_reserved_name(name)
    assert display_name_problem(name, "member") is not None
    assert display_name_problem(name, "moderator") is None


@pytest.mark.parametrize("name", [
    "Ann Li", "王芳", "Badminton Club", "Systematic Review", "Staffan", "Mod", "Li Supporting",
    "Ecology Lab", "Admiral Zheng", "张管理",
])
def test_ordinary_names(name):
    assert not is_reserved_name(name)
    assert display_name_problem(name, "member") is None


def test_skeletons_of_lookalikes_match():
    assert skeleton("\u0410dmin") == skeleton("admin") == skeleton("ＡＤＭＩＮ") == skeleton("Admln")


@pytest.mark.parametrize("password", [
    "12345678", "password", "PASSWORD", "Password1", "ｐａｓｓｗｏｒｄ", "qwertyuiop", " password ",
    " " * 8, "\t" * 8, "\u3000" * 8, "\u200b" * 8, "\x00" * 8, "aaaaaaaa", "AaAaAaAa", "哈哈哈哈哈哈哈哈",
    "abc\x00defgh", "abcdefg\ud800", "short", "x" * 1025,
])
def test_refused_passwords(password):
    assert password_problem(password) is not None


@pytest.mark.parametrize("password", ["correct horse", "Corr3ct-horse-电池-staple", "长城很长很长很长",
                                      "tab\tinside ok", "xy" * 512])
def test_accepted_passwords(password):
    assert password_problem(password) is None


def test_the_common_list_is_shipped_lowercased():
    common = common_passwords()
    assert len(common) > 8000 and "12345678" in common and "password" in common
    assert all(entry == entry.casefold() and len(entry) >= 8 for entry in common)


def test_message_frames_carry_the_role_of_staff_only():
    def author(role):
        message = Message("zhuhai", 1, "m1", 7, "Lin", "c1", "hi", 1_700_000_000_000, author_role=role)
        return message_frame(message)["author"]

    assert author("member") == {"id": 7, "name": "Lin"}
    assert author("moderator") == {"id": 7, "name": "Lin", "role": "moderator"}
    assert author("admin") == {"id": 7, "name": "Lin", "role": "admin"}
