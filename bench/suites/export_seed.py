"""The export suite's seeder: a room log of N messages written straight into PostgreSQL with COPY.

Sending a million messages through a node would take an hour; COPY (asyncpg's
``copy_records_to_table``) writes them in a minute or two. The rows match what the append writer
(chat/store/append.py, chat/store/batch.py) stores, column for column:

* ``messages``: every row takes the room's next seq (gapless from 1); kind ``message`` rows hold
  the final state (an edited one its last body with ``edited_at_ms``, a deleted one an empty
  body and html with ``deleted``); each edit, delete and reaction is an event row of its own
  (``edit`` with the new body and html, ``delete`` with none, ``reaction`` with
  ``{"added":true,"emoji":…}``) right after its message, with ``target_id`` naming it;
* ``message_versions``: the earlier body of each edited message that was not deleted;
* ``reactions``: one row per (message, member, emoji) of the messages not deleted;
* ``rooms.head_seq``: the last seq.

Bodies mix English and Chinese sentences (some with Markdown), rendered to html by the server's
own renderer (chat/rooms/markdown.py). Messages are 30 s apart (whole seconds), so a time range
of K messages is easy to name. The authors are members inserted with an unusable password.
`check_history` then reads the room through the node's history API and compares.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from chat.rooms.markdown import render

MESSAGE_GAP_MS = 30_000
EVENT_GAP_MS = 1_000
CHUNK = 50_000  # rows per COPY

EN = [
    "Has anyone compared heat pump retrofits in older residential blocks?",
    "The municipal budget review is due next month; please send comments by Friday.",
    "We measured a 23% drop in peak load after the district cooling upgrade.",
    "Could you share the **procurement template** you used for the bus fleet?",
    "Green bonds were oversubscribed twice, which surprised the finance team.",
    "Rainwater harvesting works well on school roofs, less so on malls.",
    "Here is the link to the draft: https://example.org/drafts/urban-renewal-2026",
    "I agree with the point about *maintenance costs* being underestimated.",
    "Let's schedule a call with the city planners for Tuesday morning.",
    "The pilot covered 1,200 households and 14 public buildings.",
    "Our data shows landfill diversion at 61% for the first quarter.",
    "Does the new standard apply to retrofits or only to new buildings?",
]
ZH = [
    "请问有没有老旧小区热泵改造的对比数据？",
    "市政预算审查下个月截止，请在周五前提交意见。",
    "区域供冷系统升级后，高峰负荷下降了百分之二十三。",
    "能否分享一下公交车队采购使用的**招标模板**？",
    "绿色债券认购倍数超过两倍，财务团队也很意外。",
    "雨水收集在学校屋顶效果很好，在商场就差一些。",
    "我同意关于*维护成本*被低估的看法。",
    "我们约城市规划部门周二上午开个会吧。",
    "试点覆盖了一千二百户家庭和十四座公共建筑。",
    "第一季度垃圾填埋转移率达到百分之六十一。",
    "新标准适用于改造项目还是只适用于新建建筑？",
    "谢谢，这份资料对我们的项目很有帮助。",
]
EMOJIS = ["👍", "❤️", "🎉", "👀", "🙏"]
AUTHOR_NAMES = [
    "Anna Müller", "李华", "James Okafor", "王芳", "Maria Santos", "张伟", "Priya Nair", "刘洋",
    "Tom Becker", "陈静", "Sofia Rossi", "杨磊", "Lucas Martin", "赵敏", "Aiko Tanaka", "黄强",
    "Omar Haddad", "周婷", "Elena Petrova", "吴涛",
]
EDIT_SHARE = 0.01  # of messages edited once
DELETE_SHARE = 0.005  # deleted (after any edit and reactions)
REACT_SHARE = 0.03  # with 1 to 3 reactions


@dataclass
class Seeded:
    """What was written, and what the history check compares with."""

    room_id: str
    messages: int
    rows: int  # room log rows: messages and their events (= head_seq)
    edited: int = 0
    deleted: int = 0
    reactions: int = 0
    versions: int = 0
    first_ms: int = 0
    last_ms: int = 0
    authors: dict[int, str] = field(default_factory=dict)
    # seq -> (body, deleted, edited, {emoji: [user ids]}) of the messages the check reads
    expected: dict[int, tuple[str, bool, bool, dict[str, list[int]]]] = field(default_factory=dict)
    seq_of: dict[int, int] = field(default_factory=dict)  # message index -> seq, for the windows checked
    seconds: float = 0.0

    def message_ms(self, index: int) -> int:
        """When message `index` (0-based) was sent."""
        return self.first_ms + index * MESSAGE_GAP_MS


def bodies(rng: random.Random, count: int = 3000) -> list[tuple[str, str]]:
    """`count` distinct bodies (one to three sentences, English, Chinese or both) and their html."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    while len(out) < count:
        parts = [rng.choice(EN if rng.random() < 0.5 else ZH) for _ in range(rng.randint(1, 3))]
        body = " ".join(parts) + ("" if rng.random() < 0.7 else f" #{rng.randint(1, 9999)}")
        if body not in seen:
            seen.add(body)
            out.append((body, render(body)))
    return out


def _data(added: bool, emoji: str) -> str:
    return json.dumps({"added": added, "emoji": emoji}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def plan_rows(room_id: str, n: int, authors: list[int], start_ms: int, seed: int,
              check_windows: list[range], seeded: Seeded) -> Iterator[tuple[list[tuple], list[tuple], list[tuple]]]:
    """Chunks of (message rows, version rows, reaction rows) for n messages, in seq order."""
    rng = random.Random(seed)
    pool = bodies(rng)
    wanted = {i for w in check_windows for i in w}
    seq = 0
    rows: list[tuple] = []
    versions: list[tuple] = []
    reactions: list[tuple] = []
    seeded.first_ms = start_ms
    for i in range(n):
        at = start_ms + i * MESSAGE_GAP_MS
        author = authors[rng.randrange(len(authors))]
        body, html = pool[rng.randrange(len(pool))]
        seq += 1
        mid = secrets.token_urlsafe(12)
        msg_seq = seq
        r = rng.random()
        edited = r < EDIT_SHARE
        react = EDIT_SHARE <= r < EDIT_SHARE + REACT_SHARE or (edited and rng.random() < 0.3)
        deleted = rng.random() < DELETE_SHARE
        events: list[tuple] = []
        t = at
        final_body, final_html, edited_at = body, html, None
        if edited:
            t += EVENT_GAP_MS
            seq += 1
            final_body, final_html = pool[rng.randrange(len(pool))]
            edited_at = t
            events.append((room_id, seq, secrets.token_urlsafe(12), author, f"s{seq}", final_body, t,
                           "edit", mid, final_html, "{}", None, False))
        who: dict[str, list[int]] = {}
        if react:
            for _ in range(rng.randint(1, 3)):
                emoji, user = rng.choice(EMOJIS), authors[rng.randrange(len(authors))]
                if user in who.get(emoji, []):
                    continue
                who.setdefault(emoji, []).append(user)
                t += EVENT_GAP_MS
                seq += 1
                events.append((room_id, seq, secrets.token_urlsafe(12), user, f"s{seq}", "", t,
                               "reaction", mid, "", _data(True, emoji), None, False))
        if deleted:
            t += EVENT_GAP_MS
            seq += 1
            events.append((room_id, seq, secrets.token_urlsafe(12), author, f"s{seq}", "", t,
                           "delete", mid, "", "{}", None, False))
            # A delete blanks every copy of the text: the message, its edit events, versions,
            # reactions (chat/store/append.py).
            events = [(*e[:5], "", *e[6:9], "", *e[10:]) if e[7] == "edit" else e for e in events]
            final_body, final_html, who = "", "", {}
            seeded.deleted += 1
        elif edited:
            versions.append((mid, 1, body, edited_at, author))
        if edited:
            seeded.edited += 1
        for emoji, users in who.items():
            reactions.extend((mid, u, emoji) for u in users)
            seeded.reactions += len(users)
        rows.append((room_id, msg_seq, mid, author, f"s{msg_seq}", final_body, at, "message", None,
                     final_html, "{}", edited_at, deleted))
        rows.extend(events)
        if i in wanted:
            seeded.expected[msg_seq] = (final_body, deleted, edited, {e: sorted(u) for e, u in who.items()})
            seeded.seq_of[i] = msg_seq
        seeded.last_ms = t
        if len(rows) >= CHUNK:
            yield rows, versions, reactions
            rows, versions, reactions = [], [], []
    seeded.rows = seq
    if rows:
        yield rows, versions, reactions


MESSAGE_COLUMNS = ["room_id", "seq", "message_id", "author_id", "cid", "body", "sent_at_ms", "kind",
                   "target_id", "html", "data", "edited_at_ms", "deleted"]


async def seed(db_url: str, room_id: str, n: int, check_windows: list[range], seed_value: int = 12,
               log=print) -> Seeded:
    """Write n messages (and their events) into room_id, which must exist and be empty."""
    import asyncpg

    t0 = time.monotonic()
    seeded = Seeded(room_id, n, 0)
    conn = await asyncpg.connect(db_url)
    try:
        head = await conn.fetchval("SELECT head_seq FROM rooms WHERE room_id = $1", room_id)
        if head is None or head != 0:
            raise RuntimeError(f"room {room_id} must exist and be empty (head_seq {head})")
        now_ms = int(time.time()) * 1000
        start_ms = now_ms - 86_400_000 - n * MESSAGE_GAP_MS  # ends a day ago
        author_ids = []
        for k, name in enumerate(AUTHOR_NAMES):
            uid = await conn.fetchval(
                "INSERT INTO users (email, display_name, password_hash, created_at_ms)"
                " VALUES ($1, $2, $3, $4) RETURNING user_id",
                f"seed-author-{k}-{secrets.token_hex(4)}@bench.example.org", name, "!unusable", start_ms)
            author_ids.append(uid)
            seeded.authors[uid] = name
        written = versions = 0
        async with conn.transaction():
            for rows, vrows, rrows in plan_rows(room_id, n, author_ids, start_ms, seed_value,
                                               check_windows, seeded):
                await conn.copy_records_to_table("messages", records=rows, columns=MESSAGE_COLUMNS)
                if vrows:
                    await conn.copy_records_to_table(
                        "message_versions", records=vrows,
                        columns=["message_id", "version", "body", "edited_at_ms", "editor_id"])
                if rrows:
                    await conn.copy_records_to_table("reactions", records=rrows,
                                                     columns=["message_id", "user_id", "emoji"])
                written += len(rows)
                versions += len(vrows)
                if written // CHUNK % 4 == 0:
                    log(f"seeded {written:,} rows ({time.monotonic() - t0:.0f} s)")
            await conn.execute("UPDATE rooms SET head_seq = $1 WHERE room_id = $2", seeded.rows, room_id)
        seeded.versions = versions
        await conn.execute("ANALYZE messages")
        await conn.execute("ANALYZE reactions")
        await conn.execute("ANALYZE message_versions")
        count = await conn.fetchval("SELECT count(*) FROM messages WHERE room_id = $1 AND kind = 'message'", room_id)
        if count != n or written != seeded.rows:
            raise RuntimeError(f"seeded {count} messages in {written} rows; expected {n} in {seeded.rows}")
    finally:
        await conn.close()
    seeded.seconds = time.monotonic() - t0
    return seeded


async def check_history(get, seeded: Seeded, windows: list[range]) -> list[str]:
    """Read the windows' messages through GET /api/v1/rooms/{room}/messages (`get(path)` returns
    (status, json)) and compare with what was written. Returns the problems (none: it reads right)."""
    problems: list[str] = []
    room = seeded.room_id
    status, latest = await get(f"/api/v1/rooms/{room}/messages?limit=200")
    if status != 200:
        return [f"latest page: HTTP {status}"]
    pages = [latest["messages"]]
    for w in windows:
        first_seq = seeded.seq_of[w.start]
        status, page = await get(f"/api/v1/rooms/{room}/messages?after={first_seq - 1}&limit={min(len(w), 200)}")
        if status != 200:
            problems.append(f"page after {first_seq - 1}: HTTP {status}")
            continue
        pages.append(page["messages"])
    checked = 0
    for page in pages:
        for m in page:
            want = seeded.expected.get(m["seq"])
            if want is None:
                problems.append(f"seq {m['seq']} is not a seeded message of the windows checked")
                continue
            body, deleted, edited, reactions = want
            got_reactions = {e: sorted(u) for e, u in m.get("reactions", {}).items()}
            if (m["body"], bool(m.get("deleted")), "edited_at" in m, got_reactions) != (body, deleted, edited, reactions):
                problems.append(f"seq {m['seq']} differs: {m['body'][:30]!r} deleted={m.get('deleted')}")
            checked += 1
    if latest["messages"] and latest["messages"][-1]["seq"] != max(seeded.expected):
        problems.append(f"latest page ends at seq {latest['messages'][-1]['seq']}, the last message is "
                        f"seq {max(seeded.expected)}")
    if checked < sum(min(len(w), 200) for w in windows):
        problems.append(f"only {checked} messages read back")
    return problems
