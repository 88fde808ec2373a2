"""What an email says, in English and Chinese, and its rendering to a subject, a plain-text body
and an HTML body. Pure: values in, values out.

A Letter holds both languages; render() picks one (the member's, chat/mail/service.py
`mail_language`) or, when the language is unknown (None), puts English first and Chinese after
it in one mail, the subject "English / 中文". The HTML is escaped throughout, styled inline only,
and loads nothing remote (no images, no fonts): mail clients block those, and members in China
could not reach them."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

FONT = "font-family:-apple-system,'Segoe UI','PingFang SC','Microsoft YaHei',sans-serif"
BODY_STYLE = f"{FONT};font-size:15px;line-height:1.5;color:#1f2a24;max-width:600px;margin:0 auto;padding:16px"
BUTTON_STYLE = ("display:inline-block;background:#2f6f4e;color:#ffffff;text-decoration:none;"
                "padding:10px 18px;border-radius:6px;font-weight:600")
FOOTER_STYLE = "font-size:12px;color:#5b6660;border-top:1px solid #d8ded9;margin-top:24px;padding-top:12px"
RULE = "border:0;border-top:1px solid #d8ded9;margin:24px 0"


@dataclass(frozen=True, slots=True)
class Action:
    """The one button of a letter: where it leads, and its label in each language."""

    url: str
    label_en: str
    label_zh: str


@dataclass(frozen=True, slots=True)
class Letter:
    """An email's words in both languages. Paragraphs are plain text (escaped in HTML; a line
    break inside one is kept). Footer lines (plain text) come last, in every rendering, in the
    order given: put each language's line in."""

    subject_en: str
    subject_zh: str
    paragraphs_en: tuple[str, ...]
    paragraphs_zh: tuple[str, ...]
    action: Action | None = None
    footer: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A letter ready to send: what goes in the Subject header and the two alternative bodies."""

    subject: str
    text: str
    html: str


def subject(letter: Letter, lang: Lang | None) -> str:
    if lang == "en":
        return letter.subject_en
    if lang == "zh":
        return letter.subject_zh
    return f"{letter.subject_en} / {letter.subject_zh}"


def _part(letter: Letter, lang: Lang) -> tuple[tuple[str, ...], str | None]:
    paragraphs = letter.paragraphs_en if lang == "en" else letter.paragraphs_zh
    label = None
    if letter.action is not None:
        label = letter.action.label_en if lang == "en" else letter.action.label_zh
    return paragraphs, label


def _text_part(letter: Letter, lang: Lang) -> list[str]:
    paragraphs, label = _part(letter, lang)
    out = list(paragraphs)
    if letter.action is not None and label is not None:
        out.append(f"{label}: {letter.action.url}")
    return out


def _html_paragraph(text: str) -> str:
    return f'<p style="margin:0 0 12px">{html.escape(text).replace(chr(10), "<br>")}</p>'


def _html_part(letter: Letter, lang: Lang) -> str:
    paragraphs, label = _part(letter, lang)
    out = [f'<div lang="{"zh-CN" if lang == "zh" else "en"}">']
    out.extend(_html_paragraph(p) for p in paragraphs)
    if letter.action is not None and label is not None:
        url = html.escape(letter.action.url, quote=True)
        out.append(f'<p style="margin:20px 0"><a href="{url}" style="{BUTTON_STYLE}">{html.escape(label)}</a></p>')
        out.append(f'<p style="margin:0 0 12px;font-size:12px;color:#5b6660;word-break:break-all">{html.escape(letter.action.url)}</p>')
    out.append("</div>")
    return "".join(out)


def render(letter: Letter, lang: Lang | None) -> Rendered:
    """The letter in `lang`, or in both (English first) when lang is None."""
    langs: tuple[Lang, ...] = (lang,) if lang is not None else LANGS
    text_blocks = ["\n\n".join(_text_part(letter, one)) for one in langs]
    text = "\n\n----\n\n".join(text_blocks)
    if letter.footer:
        text += "\n\n--\n" + "\n".join(letter.footer)
    html_blocks = f'<hr style="{RULE}">'.join(_html_part(letter, one) for one in langs)
    footer = ""
    if letter.footer:
        footer = f'<div style="{FOOTER_STYLE}">' + "".join(_html_paragraph(line) for line in letter.footer) + "</div>"
    title = html.escape(subject(letter, lang))
    page = ("<!DOCTYPE html>\n"
            f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title></head>'
            f'<body style="margin:0;background:#f4f6f4"><div style="{BODY_STYLE};background:#ffffff">'
            f"{html_blocks}{footer}</div></body></html>")
    return Rendered(subject(letter, lang), text + "\n", page)


def with_footer(rendered: Rendered, line: str, url: str) -> Rendered:
    """`rendered` with one more footer line ending in a link (the unsubscribe line the outbox
    adds): in the text after a separator, in the HTML as a small paragraph at the end."""
    text = rendered.text.rstrip("\n") + f"\n\n--\n{line}: {url}\n"
    link = html.escape(url, quote=True)
    tail = "</div></body></html>"
    addition = (f'<p style="{FOOTER_STYLE}">{html.escape(line)}: '
                f'<a href="{link}" style="color:#2f6f4e">{html.escape(url)}</a></p>')
    page = rendered.html
    page = page[: -len(tail)] + addition + tail if page.endswith(tail) else page + addition
    return Rendered(rendered.subject, text, page)
