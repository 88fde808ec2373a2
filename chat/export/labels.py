"""The words every export format shares, in English and Simplified Chinese: header field names,
markers, section titles and the short lines that tell of room events. Pure: no I/O.

Writers ask `label(lang, key)`, `event_text(lang, entry)` and `local_time(ms, zone)`; a
transcript's labels follow the requester's language (ExportRequest.lang).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from chat.export.records import Entry, Header, Lang

LABELS: dict[str, dict[Lang, str]] = {
    "transcript": {"en": "Transcript", "zh": "记录导出"},
    "scope": {"en": "Scope", "zh": "范围"},
    "room": {"en": "Room", "zh": "房间"},
    "range": {"en": "Range", "zh": "时间范围"},
    "time_zone": {"en": "Time zone", "zh": "时区"},
    "participants": {"en": "Participants", "zh": "参与者"},
    "made_at": {"en": "Made at", "zh": "导出时间"},
    "made_by": {"en": "Made by", "zh": "导出人"},
    "format": {"en": "Format", "zh": "格式"},
    "beginning": {"en": "the beginning", "zh": "最早"},
    "now": {"en": "the time of export", "zh": "导出时"},
    "operator": {"en": "operator (command line)", "zh": "运维人员（命令行）"},
    "nobody": {"en": "nobody", "zh": "无"},
    "edited": {"en": "(edited)", "zh": "(已编辑)"},
    "deleted": {"en": "(message deleted)", "zh": "（消息已删除）"},
    "anonymous": {"en": "Anonymous", "zh": "匿名"},
    "chat": {"en": "Chat", "zh": "聊天"},
    "questions": {"en": "Questions", "zh": "提问"},
    "polls": {"en": "Polls", "zh": "投票"},
    "replies": {"en": "Replies", "zh": "回复"},
    "reply": {"en": "reply", "zh": "回复"},
    "state": {"en": "State", "zh": "状态"},
    "votes": {"en": "Votes", "zh": "票数"},
    "pinned": {"en": "pinned", "zh": "已置顶"},
    "answer": {"en": "Answer", "zh": "回答"},
    "answered_by": {"en": "Answered by", "zh": "回答人"},
    "asked_by": {"en": "Asked by", "zh": "提问人"},
    "results_hidden": {"en": "results not public", "zh": "结果未公开"},
    "answers": {"en": "Answers", "zh": "作答人数"},
    "multiple": {"en": "several choices allowed", "zh": "可多选"},
    "time": {"en": "Time", "zh": "时间"},
    "author": {"en": "Author", "zh": "作者"},
    "text": {"en": "Text", "zh": "内容"},
    "kind": {"en": "Kind", "zh": "类型"},
    "reactions": {"en": "Reactions", "zh": "表情回应"},
    "section": {"en": "Section", "zh": "部分"},
    "digest": {"en": "SHA-256", "zh": "SHA-256"},
}

SCOPES: dict[str, dict[Lang, str]] = {
    "sector": {"en": "sector room", "zh": "行业房间"},
    "city": {"en": "city room", "zh": "城市房间"},
    "direct": {"en": "direct conversation", "zh": "私信会话"},
    "topic": {"en": "topic", "zh": "话题"},
    "news": {"en": "news post", "zh": "新闻"},
    "webinar": {"en": "webinar", "zh": "网络研讨会"},
    "personal": {"en": "personal data", "zh": "个人数据"},
    "compliance": {"en": "compliance export", "zh": "合规导出"},
}

STATES: dict[str, dict[Lang, str]] = {
    # consultation statuses of direct conversations
    "open": {"en": "open", "zh": "进行中"},
    "answered": {"en": "answered", "zh": "已回答"},
    "closed": {"en": "closed", "zh": "已关闭"},
    # question states
    "pending": {"en": "pending", "zh": "待审核"},
    "answering": {"en": "being answered", "zh": "正在回答"},
    "dismissed": {"en": "dismissed", "zh": "已驳回"},
    "withdrawn": {"en": "withdrawn", "zh": "已撤回"},
    # poll states
    "draft": {"en": "draft", "zh": "草稿"},
}

MEMBERSHIP: dict[str, dict[Lang, str]] = {
    "added": {"en": "{by} added {user}", "zh": "{by} 添加了 {user}"},
    "removed": {"en": "{by} removed {user}", "zh": "{by} 移除了 {user}"},
    "left": {"en": "{user} left", "zh": "{user} 已离开"},
    "declined": {"en": "{user} declined", "zh": "{user} 已拒绝"},
    "rejoined": {"en": "{user} came back", "zh": "{user} 已重新加入"},
}

WEBINAR_CHANGES: dict[str, dict[Lang, str]] = {
    "scheduled": {"en": "webinar scheduled", "zh": "研讨会已安排"},
    "edited": {"en": "webinar details changed", "zh": "研讨会信息已更改"},
    "live": {"en": "webinar started", "zh": "研讨会已开始"},
    "ended": {"en": "webinar ended", "zh": "研讨会已结束"},
    "cancelled": {"en": "webinar cancelled", "zh": "研讨会已取消"},
    "chat": {"en": "audience chat changed", "zh": "观众聊天设置已更改"},
}


def label(lang: Lang, key: str) -> str:
    return LABELS[key][lang]


def state_name(lang: Lang, state: str) -> str:
    return STATES[state][lang] if state in STATES else state


def scope_name(lang: Lang, scope: str) -> str:
    return SCOPES[scope][lang] if scope in SCOPES else scope


def local_time(ms: int, zone: str) -> str:
    """'2026-11-01 14:03' in the zone (minutes: what a reader of a transcript needs)."""
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def iso_local(ms: int, zone: str) -> str:
    """ISO 8601 with the zone's offset and milliseconds: 2026-11-01T14:03:05.120+08:00."""
    return datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).isoformat(timespec="milliseconds")


def title(header: Header) -> str:
    """The room's title in the labels' language first, the other after it when it differs."""
    first, second = (header.title_zh, header.title_en) if header.lang == "zh" else (header.title_en, header.title_zh)
    first, second = first or second, second if first else ""
    return first if not second or second == first else f"{first} / {second}"


def range_text(header: Header) -> str:
    start = label(header.lang, "beginning") if header.from_ms is None else local_time(header.from_ms, header.time_zone)
    end = label(header.lang, "now") if header.to_ms is None else local_time(header.to_ms, header.time_zone)
    return f"{start} – {end}"


def made_by(header: Header) -> str:
    return label(header.lang, "operator") if header.made_by_id is None else header.made_by_name


def header_fields(header: Header) -> list[tuple[str, str]]:
    """(label, value) of every header field, in the order every text format shows them."""
    lang = header.lang
    return [
        (label(lang, "scope"), scope_name(lang, header.scope)),
        (label(lang, "room"), title(header)),
        (label(lang, "range"), range_text(header)),
        (label(lang, "time_zone"), header.time_zone),
        (label(lang, "participants"), ", ".join(header.participants) or label(lang, "nobody")),
        (label(lang, "made_at"), local_time(header.made_at_ms, header.time_zone)),
        (label(lang, "made_by"), made_by(header)),
        (label(lang, "format"), header.format),
    ]


def _name(data: dict[str, Any], key: str) -> str:
    person = data.get(key)
    return str(person.get("name", "")) if isinstance(person, dict) else ""


def event_text(lang: Lang, entry: Entry) -> str:
    """A room event as one short line in the labels' language (a message has none)."""
    data = entry.data
    if entry.kind == "status":
        status = str(data.get("status", ""))
        return {"en": f"status changed to {state_name('en', status)}",
                "zh": f"状态改为{state_name('zh', status)}"}[lang]
    if entry.kind == "membership":
        change = str(data.get("change", ""))
        pattern = MEMBERSHIP.get(change, {"en": "{user}: " + change, "zh": "{user}：" + change})[lang]
        return pattern.format(user=_name(data, "user"), by=_name(data, "by") or entry.author_name)
    if entry.kind == "webinar":
        change = str(data.get("change", ""))
        return WEBINAR_CHANGES.get(change, {"en": f"webinar: {change}", "zh": f"研讨会：{change}"})[lang]
    if entry.kind == "topic":
        topic = data.get("topic") if isinstance(data.get("topic"), dict) else {}
        assert isinstance(topic, dict)
        name = str(topic.get("title", ""))
        news = topic.get("kind") == "news"
        if data.get("first", True):
            return {"en": f"{'news' if news else 'topic'}: {name}", "zh": f"{'新闻' if news else '话题'}：{name}"}[lang]
        marks = [label(lang, "pinned")] if topic.get("pinned") else []
        if topic.get("resolved"):
            marks.append({"en": "resolved", "zh": "已解决"}[lang])
        changed = ", ".join(marks) if lang == "en" else "，".join(marks)
        return {"en": f"topic updated: {name}" + (f" ({changed})" if changed else ""),
                "zh": f"话题已更新：{name}" + (f"（{changed}）" if changed else "")}[lang]
    return ""
