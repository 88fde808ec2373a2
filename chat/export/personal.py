"""The personal data archive: everything the server holds about one member, as a zip they
download themselves (GET /api/v1/me/export, `ecolink export personal`). docs/protocol.md,
"Personal data archive", lists the files and their fields.

Every kind of row is read page by page by its key (chat/store/personal.py), formatted and
streamed before the next page is read: memory stays flat whatever the member wrote. The audit
log records the archive ("export.personal") before its first byte.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import structlog

from chat.audit.service import EXPORT_PERSONAL, AuditLog
from chat.clock import Clock, iso_ms
from chat.errors import InvalidInput
from chat.export.archive import MEDIA_TYPE, Archive, Member, json_bytes, jsonl_with_digest, zip_stream
from chat.export.records import Lang
from chat.export.scope import default_lang
from chat.export.service import ExportService
from chat.mail.service import preferences_json
from chat.models import Profile, User
from chat.store.personal import WebinarItemKind
from chat.store.port import Store

log = structlog.get_logger("chat.export.personal")

PAGE = 500

README = {
    "en": """EcoLink chat: your personal data archive

Made {made_at} (UTC) for {name} (member {user_id}).

What the files hold:
- profile.json: your account (email, role, when you joined), your profile, the members you
  blocked, your email preferences, and your ties to rooms (direct conversations you are or
  were in, webinars you registered for or host, your notification settings).
- messages.jsonl: every message you wrote, in every room, with its room, time, final text,
  whether it was edited or deleted, and the reactions on it.
- topics.jsonl: the topics and news posts you started (title, text, rooms); replies in them
  are messages (messages.jsonl).
- reactions.jsonl: every reaction you gave, with its message and room.
- notifications.jsonl: every notification you received.
- read_state.json: how far you have read in each room.
- webinars.jsonl: the questions you asked in webinars, your votes and your poll answers.
- manifest.json: each file's size and SHA-256, and when the archive was made.

JSON Lines files hold one JSON object per line; their last line states the SHA-256 of every
line before it (check: head -n -1 FILE | sha256sum). Times are UTC (ISO 8601).
""",
    "zh": """EcoLink 聊天：您的个人数据存档

生成于 {made_at}（UTC），属于 {name}（成员 {user_id}）。

文件内容：
- profile.json：您的账户（电子邮件、角色、加入时间）、个人资料、您屏蔽的成员、您的邮件通知设置，以及您与房间的关联
  （您参与或曾参与的私信对话、您报名或主持的网络研讨会、您的通知设置）。
- messages.jsonl：您在所有房间发送的每条消息，包括房间、时间、最终文本、是否已编辑或已删除，以及消息上的表情回应。
- topics.jsonl：您发起的话题和新闻帖子（标题、正文、所在房间）；其中的回复属于消息（messages.jsonl）。
- reactions.jsonl：您给出的每个表情回应，以及对应的消息和房间。
- notifications.jsonl：您收到的每条通知。
- read_state.json：您在每个房间的阅读位置。
- webinars.jsonl：您在网络研讨会中提出的问题、投票和投票问卷的回答。
- manifest.json：每个文件的大小和 SHA-256，以及存档的生成时间。

JSON Lines 文件每行一个 JSON 对象；最后一行给出之前所有行的 SHA-256（校验：head -n -1 文件名 | sha256sum）。
时间均为 UTC（ISO 8601）。
""",
}


def parse_lang(raw: str | None) -> Lang | None:
    """`lang` as a query or CLI option: en, zh, or absent (None); anything else is refused."""
    if raw is None or raw == "":
        return None
    if raw in ("en", "zh"):
        return "en" if raw == "en" else "zh"
    raise InvalidInput("'lang' must be en or zh", details={"lang": "must be en or zh"})


def profile_lang(profile: Profile | None) -> Lang:
    """The requester's language: zh when their profile lists Chinese and not English, else en
    (profiles keep languages sorted, so their order says nothing; parse_request's rule)."""
    return default_lang(profile.languages if profile else ())


def _room(room_id: str, kind: str, title_en: str, title_zh: str) -> dict[str, Any]:
    return {"id": room_id, "kind": kind, "title": {"en": title_en, "zh": title_zh}}


def _time(ms: int | None) -> str | None:
    return None if ms is None else iso_ms(ms)


class PersonalArchives:
    def __init__(self, store: Store, audit: AuditLog, clock: Clock, exports: ExportService | None = None) -> None:
        """`exports`: the node's export service, whose running-export slots archives take too
        (one per member, ECOLINK_EXPORT_CONCURRENCY per node); None at the command line."""
        self._store = store
        self._audit = audit
        self._clock = clock
        self._exports = exports

    async def archive(self, user: User, lang: Lang | None, *, actor: User | None) -> Archive:
        """The archive of `user` (a member; guests have none: the route refuses them), made
        for `actor` (the member, or None for the operator at the command line). Recorded in
        the audit log before this returns, so before any byte; ExportBusy (nothing recorded)
        while the member already runs an export or the node runs as many as it may."""
        if self._exports is None:
            return await self._archive(user, lang, actor)
        made: list[Archive] = []

        async def make() -> AsyncIterator[bytes]:
            made.append(await self._archive(user, lang, actor))
            return made[0].chunks

        chunks = await self._exports.counted(actor, make)
        return replace(made[0], chunks=chunks)

    async def _archive(self, user: User, lang: Lang | None, actor: User | None) -> Archive:
        made_at = self._clock.now_ms()
        profile = await self._store.get_profile(user.user_id)
        lang = lang or profile_lang(profile)
        await self._audit.record(actor, EXPORT_PERSONAL, {"user_id": user.user_id, "lang": lang})
        log.info("export.personal_started", user=user.user_id, by=None if actor is None else actor.user_id)
        day = iso_ms(made_at)[:10]
        members = self._members(user, profile, lang, made_at)
        return Archive(f"ecolink-personal-{user.user_id}-{day}.zip", MEDIA_TYPE,
                       self._logged(zip_stream(members, made_at, {"scope": "personal",
                                                                  "user_id": user.user_id, "lang": lang}),
                                    user.user_id))

    async def _logged(self, chunks: AsyncIterator[bytes], user_id: int) -> AsyncIterator[bytes]:
        size = 0
        try:
            async for chunk in chunks:
                size += len(chunk)
                yield chunk
        except Exception as exc:
            # The status is sent: the stream can only end (a truncated zip does not open).
            log.error("export.personal_failed", user=user_id, bytes=size, error=type(exc).__name__)
            raise
        log.info("export.personal_done", user=user_id, bytes=size)

    async def _members(self, user: User, profile: Profile | None, lang: Lang,
                       made_at: int) -> AsyncIterator[Member]:
        readme = README[lang].format(made_at=iso_ms(made_at), name=user.display_name, user_id=user.user_id)

        async def text() -> AsyncIterator[bytes]:
            yield readme.encode()

        async def account() -> AsyncIterator[bytes]:
            yield json_bytes(await self._profile_document(user, profile), indent=2)

        yield Member("README.txt", text)
        yield Member("profile.json", account)
        yield Member("messages.jsonl", lambda: jsonl_with_digest(self._messages(user.user_id)))
        yield Member("topics.jsonl", lambda: jsonl_with_digest(self._topics(user.user_id)))
        yield Member("reactions.jsonl", lambda: jsonl_with_digest(self._reactions(user.user_id)))
        yield Member("notifications.jsonl", lambda: jsonl_with_digest(self._notifications(user.user_id)))
        yield Member("read_state.json", lambda: self._reads(user.user_id))
        yield Member("webinars.jsonl", lambda: jsonl_with_digest(self._webinar_items(user.user_id)))

    async def _profile_document(self, user: User, profile: Profile | None) -> dict[str, Any]:
        blocked = await self._store.blocked_users(user.user_id)
        links = await self._store.own_links(user.user_id)
        fields: dict[str, Any] = {}
        if profile is not None:
            fields = {
                "display_name": profile.display_name, "alt_name": profile.alt_name,
                "affiliation": profile.affiliation, "organisation": profile.organisation,
                "country": profile.country, "city": profile.city, "sectors": list(profile.sectors),
                "languages": list(profile.languages), "time_zone": profile.time_zone, "bio": profile.bio,
            }
        return {
            "account": {"id": user.user_id, "email": user.email, "display_name": user.display_name,
                        "role": user.role, "created_at": iso_ms(user.created_at_ms)},
            "profile": fields,
            "blocks": [{"id": user_id, "name": name} for user_id, name in blocked],
            "email_preferences": preferences_json(await self._store.mail_preferences(user.user_id)),
            "rooms": [{"relation": link.relation, "room": link.room_id, "since": _time(link.at_ms),
                       "until": _time(link.until_ms), "value": link.value} for link in links],
        }

    async def _messages(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        after: tuple[str, int] = ("", 0)
        while page := await self._store.own_messages(user_id, after, PAGE):
            for m in page:
                yield {"type": "message", "room": _room(m.room_id, m.room_kind, m.room_title_en, m.room_title_zh),
                       "seq": m.seq, "id": m.message_id, "sent_at": iso_ms(m.sent_at_ms), "text": m.text,
                       "edited": m.edited_at_ms is not None, "edited_at": _time(m.edited_at_ms),
                       "deleted": m.deleted,
                       "reactions": [{"emoji": emoji, "names": list(names)} for emoji, names in m.reactions]}
            after = (page[-1].room_id, page[-1].seq)

    async def _topics(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        after = ""
        while page := await self._store.own_topics(user_id, after, PAGE):
            for t in page:
                yield {"type": t.kind, "id": t.topic_id, "title": t.title, "summary": t.summary,
                       "body": t.body, "created_at": iso_ms(t.created_at_ms), "rooms": list(t.room_ids),
                       "resolved": t.resolved, "pinned": t.pinned, "replies": t.reply_count,
                       "attachments": [{k: a.get(k) for k in ("name", "type", "size")} for a in t.attachments]}
            after = page[-1].topic_id

    async def _reactions(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        after = ("", "")
        while page := await self._store.own_reactions(user_id, after, PAGE):
            for r in page:
                yield {"type": "reaction", "emoji": r.emoji, "message": r.message_id, "room": r.room_id,
                       "seq": r.seq}
            after = (page[-1].message_id, page[-1].emoji)

    async def _notifications(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        after = 0
        while page := await self._store.own_notifications(user_id, after, PAGE):
            for n in page:
                yield {"type": "notification", "id": n.notification_id, "kind": n.kind, "room": n.room_id,
                       "seq": n.seq, "message": n.message_id, "actor": {"id": n.actor_id, "name": n.actor_name},
                       "excerpt": n.excerpt, "created_at": iso_ms(n.created_at_ms),
                       "read_at": _time(n.read_at_ms)}
            after = page[-1].notification_id

    async def _reads(self, user_id: int) -> AsyncIterator[bytes]:
        """One JSON document, written as its rows arrive: {"rooms": [ … ]}."""
        yield b'{"rooms":['
        after, first = "", True
        while page := await self._store.own_reads(user_id, after, PAGE):
            for r in page:
                row = {"room": _room(r.room_id, r.room_kind, r.room_title_en, r.room_title_zh),
                       "last_read_seq": r.last_read_seq, "head_seq": r.head_seq}
                yield (b"" if first else b",") + json_bytes(row).rstrip(b"\n")
                first = False
            after = page[-1].room_id
        yield b"]}\n"

    async def _webinar_items(self, user_id: int) -> AsyncIterator[dict[str, Any]]:
        kinds: tuple[WebinarItemKind, ...] = ("question", "vote", "poll_answer")
        for kind in kinds:
            after = ""
            while page := await self._store.own_webinar_items(user_id, kind, after, PAGE):
                for item in page:
                    yield {"type": item.kind, "id": item.item_id, "webinar": item.webinar_id,
                           "at": _time(item.at_ms), **item.data}
                after = page[-1].item_id
