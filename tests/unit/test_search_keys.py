"""chat.accounts.search_keys: what the directory search matches for a member's names."""

from __future__ import annotations

from chat.accounts.search_keys import MAX_SEARCH_KEY_CHARS, search_key


def test_han_names_get_their_pinyin_spaced_and_run_together():
    assert search_key("李华") == "李华 li hua lihua hua li huali"
    # Context picks the reading (行 is xing here, not hang).
    assert "zhang xing" in search_key("张行")


def test_latin_names_are_folded_and_the_alt_name_added():
    assert search_key("Anna MÜLLER") == "anna müller"
    assert search_key("Anna Müller", "安娜") == "anna müller 安娜 an na anna na an naan"
    assert search_key("李华", "Li Hua") == "李华 li hua lihua hua li huali"  # no repeats


def test_mixed_names_keep_their_latin_part_and_u_umlaut_has_both_spellings():
    assert search_key("王 Wei") == "王 wei wang wei wangwei"
    key = search_key("吕芳").split()
    assert {"lv", "lu", "lvfang", "lufang"} <= set(key)


def test_the_key_is_bounded_and_blank_names_give_nothing():
    assert search_key("", "  ") == ""
    assert len(search_key("龘" * 64, "龘" * 64)) <= MAX_SEARCH_KEY_CHARS
