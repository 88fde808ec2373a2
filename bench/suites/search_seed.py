"""The search suite's seeder: many bilingual messages in ~50 rooms, and their search entries.

Bodies are written for this platform: its sectors and pilot cities, in English, in Chinese, and
mixed in one message ("BRT快速公交 line 3 opens in May"), naming members (李华, Anna Müller),
built from templates with slots so that nearly every body is distinct and words are spread
the way chat spreads them (a few very common, most rare). `plan` yields them in time order,
each message in its room with the room's next seq; the rooms are the seeded sector and city
rooms plus direct rooms (a few of them the searcher's).

Writing: `messages` rows as the append writer stores a plain message (export_seed's columns),
and one `search_entries` row per message made by the store's own row builder
(chat/store/search.py, `_row`), in a process pool (the terms are the costly part), then COPY
(PostgreSQL) or executemany (SQLite). `check_rows` re-indexes a sample through
`store.index_entries`, the app's own path, and compares the rows.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from chat.models import SearchEntry, User
from chat.rooms.markdown import render
from chat.store.catalog import SEED_ROOMS
from chat.store.port import Store
from chat.store.search import _row as entry_row
from chat.store.search_sql import message_entry

# -- vocabulary --------------------------------------------------------------------------------

CITIES = [(r.title_en, r.title_zh) for r in SEED_ROOMS if r.kind == "city"] + [
    ("Shenzhen", "深圳"), ("Chengdu", "成都"), ("Wuhan", "武汉"), ("Hamburg", "汉堡"),
    ("Copenhagen", "哥本哈根"), ("Freiburg", "弗莱堡"), ("Rotterdam", "鹿特丹"), ("Lyon", "里昂"),
]
# (English, Chinese) of what the sector rooms talk about; English nouns in the plural where a
# stem then differs from the surface form (retrofits → retrofit).
TOPICS = [
    ("heat pumps", "热泵"), ("bus rapid transit", "快速公交"), ("green bonds", "绿色债券"),
    ("old residential compounds", "老旧小区"), ("sponge city measures", "海绵城市"),
    ("district heating", "区域供热"), ("waste sorting", "垃圾分类"), ("rainwater harvesting", "雨水收集"),
    ("public-private partnerships", "政府和社会资本合作"), ("electric buses", "电动公交"),
    ("cycling lanes", "自行车道"), ("landfill diversion", "垃圾填埋"), ("rooftop solar", "屋顶光伏"),
    ("building insulation", "建筑保温"), ("energy audits", "能源审计"), ("flood control", "防洪排涝"),
    ("wastewater treatment", "污水处理"), ("municipal budgets", "市政预算"), ("procurement", "采购招标"),
    ("feasibility studies", "可行性研究"), ("carbon emissions", "碳排放"), ("energy retrofits", "节能改造"),
    ("transit-oriented development", "公共交通导向开发"), ("heritage protection", "历史文化保护"),
    ("recycling", "资源回收"), ("brownfield sites", "棕地修复"), ("street trees", "行道树"),
    ("smart meters", "智能电表"), ("river restoration", "河道治理"), ("charging stations", "充电桩"),
    ("passive houses", "被动式建筑"), ("cooling demand", "制冷需求"), ("water tariffs", "水价改革"),
    ("kitchen waste", "厨余垃圾"), ("bike sharing", "共享单车"), ("pedestrian streets", "步行街"),
    ("green certification", "绿色建筑认证"), ("air quality", "空气质量"), ("land value capture", "土地增值收益"),
    ("debt ceilings", "债务上限"),
]
DOCS = [("report", "报告"), ("draft", "草案"), ("slides", "幻灯片"), ("budget table", "预算表"),
        ("tender documents", "招标文件"), ("site photos", "现场照片"), ("meeting minutes", "会议纪要"),
        ("survey results", "调查结果"), ("cost estimate", "成本估算"), ("work plan", "工作计划")]
METRICS = [("peak load", "高峰负荷"), ("energy use", "能耗"), ("travel time", "出行时间"),
           ("water loss", "漏损率"), ("emissions", "排放量"), ("operating costs", "运营成本"),
           ("waiting time", "候车时间"), ("complaints", "投诉")]
PERIODS = [("month", "月"), ("quarter", "季度"), ("year", "年"), ("week", "周")]
DAYS = [("Monday", "周一"), ("Tuesday", "周二"), ("Wednesday", "周三"), ("Thursday", "周四"), ("Friday", "周五")]
ACRONYMS = [("BRT", "快速公交"), ("TOD", "开发"), ("PPP", "项目"), ("EV", "充电桩"), ("LED", "路灯"),
            ("PM2.5", "监测"), ("GIS", "平台"), ("LCC", "分析"), ("ESCO", "合同能源管理"), ("REITs", "融资")]
ZH_SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
ZH_GIVEN = ["华", "芳", "伟", "洋", "静", "磊", "敏", "强", "婷", "涛", "娜", "杰", "丽", "军", "勇",
            "艳", "明", "超", "秀英", "建国", "海燕", "志强", "晓东", "文博"]
EN_FIRST = ["Anna", "James", "Maria", "Priya", "Tom", "Sofia", "Lucas", "Aiko", "Omar", "Elena",
            "David", "Sarah", "Jonas", "Fatima", "Peter", "Laura", "Marco", "Ingrid", "Kwame", "Julia"]
EN_LAST = ["Müller", "Okafor", "Santos", "Nair", "Becker", "Rossi", "Martin", "Tanaka", "Haddad",
           "Petrova", "Schmidt", "Jensen", "Novak", "Brown", "Garcia", "Dubois", "Lindqvist"]

EN_TEMPLATES = [
    "Has anyone compared {topic} in {city} with other pilot cities?",
    "The {topic} pilot in {city} cut {metric} by {n}% last {period}.",
    "{name}, could you share the {doc} on {topic}?",
    "We need the {doc} before the call on {day}; {name} is drafting it.",
    "Thanks {name}, the {topic} figures for {city} look right to me.",
    "Our team visited {city} to review {topic}. Notes follow in the {doc}.",
    "Is the funding for {topic} approved yet? The {doc} mentions {n} million yuan.",
    "I agree with {name} that {topic} costs are underestimated in the {doc}.",
    "Let's schedule a call with the {city} planners about {topic} on {day}.",
    "The {doc} for {topic} is updated; please comment by {day}.",
    "How did {city} handle maintenance of {topic} after the first {period}?",
    "{n} households joined the {topic} programme this {period}.",
    "Planning for {topic} starts in {city} next {period}, says {name}.",
    "Can someone explain why {metric} rose after the {topic} upgrade?",
    "Great presentation on {topic}, {name}! Where can I find the slides?",
]
ZH_TEMPLATES = [
    "{city}的{topic}项目进展如何？",
    "请{name}把{topic}的{doc}发一下。",
    "{city}{topic}试点上个{period}{metric}下降了百分之{n}。",
    "我们下{period}去{city}调研{topic}，有兴趣的可以一起。",
    "关于{topic}，{name}的意见很有参考价值。",
    "{topic}的资金批下来了吗？{doc}里写的是{n}万元。",
    "{day}上午和{city}规划部门开会讨论{topic}。",
    "感谢{name}分享{city}的{topic}经验。",
    "{topic}改造后{metric}有没有变化？",
    "{doc}已更新，请大家{day}前反馈意见。",
    "{city}今年计划新增{n}个{topic}示范点。",
    "我同意{name}的看法，{topic}的维护成本被低估了。",
    "{name}：{city}的{topic}{doc}在群文件里。",
    "请问{topic}的可行性研究由谁负责？",
]
MIXED_TEMPLATES = [
    "{city_zh}的{acro}{acro_zh} line {n} opens next {period}.",
    "{acro}{acro_zh}方案 in {city} needs a new {doc}, {name}.",
    "请看 {doc} v{n}，{topic_zh}部分 updated by {name}.",
    "{name} 说 {city} 的 {topic} pilot 效果不错。",
    "Meeting notes 会议纪要: {topic_zh} in {city}, {n} participants.",
    "{acro}{acro_zh}的数据 look good; {metric} down {n}%.",
]


def zh_name(rng: random.Random) -> str:
    return rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)


def en_name(rng: random.Random) -> str:
    return f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"


# Topics by Zipf's law (weight 1/(rank+1)): the most common is in about one sentence in
# seven, the rarest in one in 300.
_TOPIC_CUMULATIVE = list(itertools.accumulate(1 / (rank + 2) for rank in range(len(TOPICS))))


def sentence(rng: random.Random, lang: str, names: list[str]) -> str:
    topic = rng.choices(TOPICS, cum_weights=_TOPIC_CUMULATIVE)[0]
    city, doc = rng.choice(CITIES), rng.choice(DOCS)
    metric, period, day = rng.choice(METRICS), rng.choice(PERIODS), rng.choice(DAYS)
    name = rng.choice(names) if rng.random() < 0.7 else (zh_name(rng) if lang == "zh" else en_name(rng))
    n = rng.choice([rng.randint(2, 99), rng.randint(100, 5000)])
    if lang == "en":
        return rng.choice(EN_TEMPLATES).format(topic=topic[0], city=city[0], doc=doc[0], metric=metric[0],
                                               period=period[0], day=day[0], name=name, n=n)
    if lang == "zh":
        return rng.choice(ZH_TEMPLATES).format(topic=topic[1], city=city[1], doc=doc[1], metric=metric[1],
                                               period=period[1], day=day[1], name=name, n=n)
    acro = rng.choice(ACRONYMS)
    return rng.choice(MIXED_TEMPLATES).format(
        acro=acro[0], acro_zh=acro[1], topic=topic[0], topic_zh=topic[1], city=city[0], city_zh=city[1],
        doc=doc[rng.random() < 0.5], metric=metric[0], period=period[0], name=name, n=n)


def body(rng: random.Random, names: list[str]) -> str:
    """One to three sentences: English (45 %), Chinese (40 %) or mixed (15 %: mixed sentences,
    or English and Chinese ones side by side)."""
    r = rng.random()
    lang = "en" if r < 0.45 else "zh" if r < 0.85 else "mixed"
    count = rng.choice((1, 1, 1, 2, 2, 3))
    if lang == "mixed" and count > 1:
        langs = [rng.choice(("en", "zh", "mixed")) for _ in range(count)]
    else:
        langs = [lang] * count
    return ("" if lang == "zh" else " ").join(sentence(rng, k, names) for k in langs)


# -- rooms, members, messages ------------------------------------------------------------------


@dataclass
class Plan:
    """Who and where: the searcher, the other members, the rooms messages go to."""

    searcher_id: int
    member_ids: list[int]
    public_rooms: list[str]
    direct_rooms: list[str]  # every direct room
    searcher_direct: list[str]  # the ones the searcher is in
    names: dict[int, str] = field(default_factory=dict)
    direct_members: dict[str, list[int]] = field(default_factory=dict)


@dataclass
class Message:
    room_id: str
    seq: int
    message_id: str
    author_id: int
    body: str
    sent_at_ms: int


def messages(plan: Plan, n: int, start_ms: int, gap_ms: int, seed: int) -> Iterator[Message]:
    """n messages in time order across the rooms: public rooms about 85 % of them (a few rooms
    much busier than others), direct rooms the rest; authors of a direct room are its members
    (the searcher and one other in theirs)."""
    rng = random.Random(seed)
    names = list(plan.names.values())
    rooms = plan.public_rooms + plan.direct_rooms
    weights = [8.5 / (i + 1) for i in range(len(plan.public_rooms))]
    scale = 85 / sum(weights)
    weights = [w * scale for w in weights] + [15 / len(plan.direct_rooms)] * len(plan.direct_rooms)
    seqs = dict.fromkeys(rooms, 0)
    direct_members = {room: plan.direct_members[room] for room in plan.direct_rooms}
    everyone = [plan.searcher_id, *plan.member_ids]
    for i, room in enumerate(rng.choices(rooms, weights, k=n)):
        seqs[room] += 1
        authors = direct_members.get(room, everyone)
        yield Message(room, seqs[room], secrets.token_urlsafe(12), rng.choice(authors), body(rng, names),
                      start_ms + i * gap_ms)


# -- members and rooms through the store -------------------------------------------------------

DIRECT_ROOMS = 33  # with the 17 seeded sector and city rooms: 50 rooms
SEARCHER_DIRECT = 4  # direct rooms the searcher is in
MEMBERS = 120


async def people(store: Store, now_ms: int, seed: int) -> tuple[User, Plan]:
    """The searcher, MEMBERS other members (Chinese and English names) and DIRECT_ROOMS direct
    rooms of two (SEARCHER_DIRECT of them the searcher's), made through the store."""
    rng = random.Random(seed)
    tag = secrets.token_hex(3)
    searcher = await store.create_user(f"searcher-{tag}@bench.example.org", "Search Bench", "!unusable",
                                       "member", now_ms)
    names: dict[int, str] = {searcher.user_id: searcher.display_name}
    member_ids: list[int] = []
    for k in range(MEMBERS):
        name = zh_name(rng) if k % 2 else en_name(rng)
        user = await store.create_user(f"member-{k}-{tag}@bench.example.org", name, "!unusable", "member", now_ms)
        member_ids.append(user.user_id)
        names[user.user_id] = name
    public = [r.room_id for r in SEED_ROOMS]
    direct: list[str] = []
    members: dict[str, list[int]] = {}
    for k in range(DIRECT_ROOMS):
        pair = ([searcher.user_id, member_ids[k % len(member_ids)]] if k < SEARCHER_DIRECT else
                [member_ids[(2 * k) % len(member_ids)], member_ids[(2 * k + 1) % len(member_ids)]])
        room, _ = await store.open_direct(f"d-bench-{tag}-{k}", pair, pair[0], "", now_ms)
        assert room is not None
        direct.append(room.room_id)
        members[room.room_id] = pair
    return searcher, Plan(searcher.user_id, member_ids, public, direct, direct[:SEARCHER_DIRECT], names, members)


# -- rows --------------------------------------------------------------------------------------

GAP_MS = 30_000  # between messages: a million span about a year
CHUNK = 20_000  # messages per worker task and per COPY
SAMPLE = 200
MESSAGE_COLUMNS = ["room_id", "seq", "message_id", "author_id", "cid", "body", "sent_at_ms", "kind",
                   "target_id", "html", "data", "edited_at_ms", "deleted"]


# search_entries' columns in the order of the store's row builder (chat/store/search.py, _row;
# search_sql.UPSERT_ENTRY names them).
ENTRY_COLUMNS = ["kind", "ref_id", "room_id", "seq", "author_id", "created_at_ms", "title", "body", "has_files",
                 "language", "terms"]


def entry(m: Message) -> SearchEntry:
    """The search entry the append writer makes of a new message (no attachments)."""
    return message_entry(m.message_id, m.room_id, m.seq, m.author_id, m.sent_at_ms, m.body, {})


def derive(batch: list[Message]) -> list[tuple[str, tuple]]:
    """In a worker process: each message's html (the server's renderer) and its search_entries
    row as the store builds it (terms and language are the costly part)."""
    return [(render(m.body), entry_row(entry(m))) for m in batch]


def message_row(m: Message, html: str) -> tuple:
    return (m.room_id, m.seq, m.message_id, m.author_id, f"s{m.seq}", m.body, m.sent_at_ms, "message", None,
            html, "{}", None, False)


def _chunked(items: Iterator[Message], size: int) -> Iterator[list[Message]]:
    chunk: list[Message] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class Loaded:
    messages: int
    seconds: float
    first_ms: int
    last_ms: int
    heads: dict[str, int]
    sample: list[SearchEntry]  # about SAMPLE entries spread over the whole load, for check_rows


async def load(plan: Plan, n: int, workers: int, seed: int,
               write: Callable[[list[tuple], list[tuple]], Awaitable[None]], log: Callable[..., None]) -> Loaded:
    """Make n messages and their entries' rows in `workers` processes and hand them to `write`
    chunk by chunk (while the workers make the next ones)."""
    t0 = time.monotonic()
    start_ms = (int(time.time()) - 86_400) * 1000 - n * GAP_MS  # the last one a day ago
    heads: dict[str, int] = {}
    loop = asyncio.get_running_loop()
    chunks = _chunked(messages(plan, n, start_ms, GAP_MS, seed), CHUNK)
    done = 0
    sample: list[SearchEntry] = []
    step = max(1, n // SAMPLE)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending: deque[tuple[list[Message], asyncio.Future]] = deque()

        def submit() -> None:
            chunk = next(chunks, None)
            if chunk:
                pending.append((chunk, loop.run_in_executor(pool, derive, chunk)))

        for _ in range(2 * workers):
            submit()
        while pending:
            chunk, future = pending.popleft()
            derived = await future
            submit()
            await write([message_row(m, html) for m, (html, _) in zip(chunk, derived, strict=True)],
                        [row for _, row in derived])
            for index, m in enumerate(chunk, done):
                heads[m.room_id] = m.seq
                if index % step == step // 2:
                    sample.append(entry(m))
            done += len(chunk)
            if done % (10 * CHUNK) == 0 or not pending:
                log(f"loaded {done:,} messages ({time.monotonic() - t0:.0f} s)")
    return Loaded(done, time.monotonic() - t0, start_ms, start_ms + (n - 1) * GAP_MS, heads, sample)


async def load_postgres(url: str, plan: Plan, n: int, workers: int, seed: int, log: Callable[..., None]) -> Loaded:
    """COPY into messages and search_entries. The search table's own indexes (not its keys) are
    dropped first and built again at the end, as `CREATE INDEX` does faster than a million
    inserts; then VACUUM ANALYZE, as autovacuum would have by then."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        indexes = await conn.fetch(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'search_entries'"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
        for row in indexes:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')

        async def write(rows: list[tuple], entries: list[tuple]) -> None:
            async with conn.transaction():
                await conn.copy_records_to_table("messages", records=rows, columns=MESSAGE_COLUMNS)
                await conn.copy_records_to_table("search_entries", records=entries, columns=ENTRY_COLUMNS)

        loaded = await load(plan, n, workers, seed, write, log)
        await conn.executemany("UPDATE rooms SET head_seq = $2 WHERE room_id = $1", list(loaded.heads.items()))
        t0 = time.monotonic()
        for row in indexes:
            await conn.execute(row["indexdef"])
        log(f"built {len(indexes)} search index(es) in {time.monotonic() - t0:.0f} s")
        for table in ("messages", "search_entries", "rooms"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        loaded.seconds += time.monotonic() - t0
    finally:
        await conn.close()
    return loaded


async def load_sqlite(path: Path, plan: Plan, n: int, workers: int, seed: int, log: Callable[..., None]) -> Loaded:
    """executemany into messages and search_entries (whose triggers fill the FTS5 table), one
    transaction per chunk, on a connection of its own while the store is idle."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        marks = ", ".join("?" * len(MESSAGE_COLUMNS))
        insert_message = f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({marks})"
        insert_entry = (f"INSERT INTO search_entries ({', '.join(ENTRY_COLUMNS)})"
                        f" VALUES ({', '.join('?' * len(ENTRY_COLUMNS))})")

        async def write(rows: list[tuple], entries: list[tuple]) -> None:
            conn.execute("BEGIN")
            conn.executemany(insert_message, rows)
            conn.executemany(insert_entry, entries)
            conn.execute("COMMIT")

        loaded = await load(plan, n, workers, seed, write, log)
        conn.executemany("UPDATE rooms SET head_seq = ? WHERE room_id = ?",
                         [(seq, room) for room, seq in loaded.heads.items()])
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return loaded


async def check_rows(store: Store, sample: list[SearchEntry]) -> list[str]:
    """Index `sample` (entries written by the loader) again through store.index_entries, the
    app's own path, and compare each row before and after; the differences (none: the loader
    writes what the app writes)."""
    db = store._db  # type: ignore[attr-defined]  # the bench reads the table itself
    columns = ", ".join(ENTRY_COLUMNS)
    sql = f"SELECT {columns} FROM search_entries WHERE kind = ? AND ref_id = ?"

    async def rows() -> list[tuple]:
        return [tuple(r) for e in sample for r in await db.fetch(sql, e.kind, e.ref_id)]

    before = await rows()
    await store.index_entries(sample)
    after = await rows()
    problems = [f"{e.ref_id}: {dict(zip(ENTRY_COLUMNS, b, strict=True))} != {dict(zip(ENTRY_COLUMNS, a, strict=True))}"
                for e, b, a in zip(sample, before, after, strict=False) if b != a]
    if len(before) != len(sample) or len(after) != len(sample):
        problems.append(f"{len(sample)} entries, {len(before)} rows before, {len(after)} after")
    return problems
