"""Letters (chat/mail/letters.py): one language or both, escaped, nothing remote."""

from __future__ import annotations

from chat.mail.letters import Action, Letter, render, with_footer

LETTER = Letter(
    subject_en="Reset your password", subject_zh="重置密码",
    paragraphs_en=("Someone asked to reset <your> password.", "Line one\nline two"),
    paragraphs_zh=("有人请求重置您的密码。",),
    action=Action("https://chat.example.org/#/reset/abc?x=1&y=2", "Choose a new password", "设置新密码"),
    footer=("EcoLink chat", "生态链接"),
)


def test_one_language_holds_only_that_language():
    en = render(LETTER, "en")
    assert en.subject == "Reset your password"
    assert "Someone asked" in en.text and "有人请求" not in en.text and "有人请求" not in en.html
    assert "Choose a new password: https://chat.example.org/#/reset/abc?x=1&y=2" in en.text
    zh = render(LETTER, "zh")
    assert zh.subject == "重置密码" and "有人请求" in zh.text and "Someone" not in zh.text
    assert '<html lang="zh-CN">' in zh.html


def test_unknown_language_is_both_english_first():
    both = render(LETTER, None)
    assert both.subject == "Reset your password / 重置密码"
    assert both.text.index("Someone asked") < both.text.index("有人请求")
    assert both.html.index("Someone asked") < both.html.index("有人请求")
    assert both.text.rstrip().endswith("EcoLink chat\n生态链接")


def test_html_is_escaped_inline_styled_and_loads_nothing_remote():
    page = render(LETTER, None).html
    assert "&lt;your&gt;" in page and "<your>" not in page
    assert 'href="https://chat.example.org/#/reset/abc?x=1&amp;y=2"' in page
    assert "Line one<br>line two" in page
    assert "<link" not in page and "<img" not in page and "<style" not in page and "@import" not in page
    assert "url(" not in page and "<script" not in page


def test_a_footer_line_with_a_link_goes_into_both_bodies():
    rendered = with_footer(render(LETTER, "en"), "Stop these emails", "https://x.test/u?a=1&b=2")
    assert rendered.text.rstrip().endswith("Stop these emails: https://x.test/u?a=1&b=2")
    assert 'href="https://x.test/u?a=1&amp;b=2"' in rendered.html
    assert rendered.html.endswith("</div></body></html>")
