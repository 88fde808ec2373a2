"""The privacy notice (GET /api/v1/privacy): the operator's text, else a bundled default in
English and Chinese. Read on every request, so an operator's edit shows without a restart.
The docstring holds the OpenAPI fragment, as in chat/transport/http.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chat.config import Settings
from chat.transport.http import node_of

log = structlog.get_logger("chat.http")

LANGUAGES = ("en", "zh")
MAX_NOTICE_BYTES = 64 * 1024  # a notice longer than this is cut, and the cut logged

DEFAULT_NOTICE = {
    "en": """This chat is run by the organisation that invited you. This notice is the bundled \
default: the operator has not written their own yet.

What is kept: your account (email, display name, password hash), your profile as you fill it in, \
the messages, topics and news you post, your reactions and read positions, and the rooms you are in.

Who sees what: the members of a room see what is posted there; your profile is shown to other \
members (never your email). Direct conversations are seen only by their members and, when a \
conversation is reported, by the moderators.

Logs hold neither passwords, tokens, emails nor message bodies.

You can delete your account yourself (Account and security): your email, profile, blocks, \
settings, notifications and sign-in details are removed and you are signed out everywhere. You choose \
whether your messages stay, shown as from a "deleted member", or are deleted too. Topics, news posts \
and questions you started stay, shown as from a deleted member. Backups are kept for a limited time.

To have your data corrected, ask the operator of this chat.""",
    "zh": """本聊天平台由邀请您的机构运营。此说明为默认文本：运营方尚未撰写自己的隐私说明。

保存的内容：您的账户（电子邮箱、显示名称、密码哈希）、您填写的个人资料、您发布的消息、话题和新闻、\
您的表情回应和阅读位置，以及您所在的聊天室。

谁能看到什么：聊天室成员可以看到在其中发布的内容；其他成员可以看到您的个人资料（但看不到您的电子邮箱）。\
私信只有其成员可见；被举报时，版主也可查看。

日志中不记录密码、令牌、电子邮箱或消息正文。

您可以自行注销账户（“账户与安全”）：您的电子邮箱、个人资料、屏蔽列表、设置、通知和登录信息将被删除，\
您将在所有设备上退出登录。您可以选择保留消息（显示为“已注销的成员”所发）或一并删除。您发起的话题、\
新闻和提问会保留，显示为“已注销的成员”所发。备份会保留一段有限的时间。

如需更正您的数据，请联系本平台的运营方。""",
}


def notice_files(settings: Settings, lang: str) -> list[Path]:
    """Where the operator's notice may be, first found wins."""
    if settings.privacy_file is not None:
        return [settings.privacy_file]
    return [settings.data_dir / f"privacy.{lang}.txt", settings.data_dir / "privacy.txt"]


def read_notice(settings: Settings, lang: str) -> tuple[str, str]:
    """(text, source): the operator's file ("operator") or the bundled default ("default")."""
    for path in notice_files(settings, lang):
        try:
            raw = path.read_bytes()[:MAX_NOTICE_BYTES + 1]
        except FileNotFoundError:
            if settings.privacy_file is not None:  # named on purpose: its absence is a mistake
                log.warning("privacy.file_missing", path=str(path))
            continue
        except OSError as exc:
            log.warning("privacy.file_unreadable", path=str(path), error=type(exc).__name__)
            continue
        if len(raw) > MAX_NOTICE_BYTES:
            log.warning("privacy.file_cut", path=str(path), max_bytes=MAX_NOTICE_BYTES)
        return raw[:MAX_NOTICE_BYTES].decode("utf-8", errors="replace"), "operator"
    return DEFAULT_NOTICE[lang], "default"


async def privacy_notice(request: Request) -> Response:
    """
    summary: The privacy notice, in the reader's language where the operator gave one
    description: >
      Plain text. The operator's file (ECOLINK_PRIVACY_FILE, else privacy.<lang>.txt or
      privacy.txt in ECOLINK_DATA_DIR), else a bundled default. No sign-in needed: people read it
      before they register. `lang` is en (the default) or zh; any other value reads as en.
    tags: [operations]
    parameters:
      - {name: lang, in: query, required: false, schema: {type: string, examples: [en, zh], description: "en or zh; any other value reads as en"}}
    responses:
      200: {description: "The notice", content: {application/json: {schema: {type: object, properties: {lang: {type: string}, source: {type: string, enum: [operator, default]}, text: {type: string}}}}}}
    """
    lang = request.query_params.get("lang", "en")
    lang = lang if lang in LANGUAGES else "en"
    text, source = await asyncio.to_thread(read_notice, node_of(request).settings, lang)
    return JSONResponse({"lang": lang, "source": source, "text": text})
