"""The database handle (chat/store/database.py) and its dialect, on SQLite and PostgreSQL: the
shared store code relies on each of these behaving the same on both."""

from __future__ import annotations

import pytest

from chat.store.database import UniqueViolation, bind

ROOM = "zhuhai"  # a seeded room


async def test_in_list_finds_the_values_and_an_empty_list_finds_nothing(store):
    db = store._db
    sql, params = bind("SELECT room_id FROM rooms WHERE {} ORDER BY room_id",
                       db.dialect.in_list("room_id", ["weihai", "zhuhai", "nowhere"], "text"))
    assert [row[0] for row in await db.fetch(sql, *params)] == ["weihai", "zhuhai"]
    sql, params = bind("SELECT room_id FROM rooms WHERE {}", db.dialect.in_list("room_id", [], "text"))
    assert await db.fetch(sql, *params) == []
    sql, params = bind("SELECT head_seq FROM rooms WHERE room_id = ? AND {}", ROOM,
                       db.dialect.in_list("head_seq", [0, 7], "bigint"))
    assert [row[0] for row in await db.fetch(sql, *params)] == [0]


async def test_execute_counts_changed_rows_and_fetch_one_finds_none(store):
    db = store._db
    assert await db.execute("UPDATE rooms SET status = status WHERE room_id = ?", ROOM) == 1
    assert await db.execute("UPDATE rooms SET status = status WHERE room_id = ?", "nowhere") == 0
    assert await db.fetch_one("SELECT room_id FROM rooms WHERE room_id = ?", "nowhere") is None
    assert (await db.fetch_one("SELECT room_id FROM rooms WHERE room_id = ?", ROOM))[0] == ROOM


async def test_a_transaction_that_raises_leaves_nothing(store):
    db = store._db
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            assert await conn.execute("UPDATE rooms SET title_en = ? WHERE room_id = ?", "x", ROOM) == 1
            raise RuntimeError("abandon")
    assert (await db.fetch_one("SELECT title_en FROM rooms WHERE room_id = ?", ROOM))[0] == "Zhuhai"


async def test_a_unique_violation_is_one_error_on_both_and_rolls_back(store):
    db = store._db
    insert = "INSERT INTO rooms (room_id, kind, title_en, title_zh) VALUES (?, 'sector', ?, ?)"
    with pytest.raises(UniqueViolation):
        await db.execute(insert, ROOM, "again", "again")
    with pytest.raises(UniqueViolation):
        async with db.transaction() as conn:
            await conn.execute(insert, "brand-new", "new", "new")
            await conn.execute_many(insert, [("brand-new-2", "b", "b"), (ROOM, "c", "c")])
    assert await db.fetch_one("SELECT 1 FROM rooms WHERE room_id = ?", "brand-new") is None


async def test_execute_many_runs_once_per_row_and_not_at_all_for_none(store):
    db = store._db
    update = "UPDATE rooms SET title_zh = ? WHERE room_id = ?"
    await db.execute_many(update, [])
    await db.execute_many(update, [("一", "weihai"), ("二", "hefei")])
    rows = await db.fetch("SELECT room_id, title_zh FROM rooms WHERE room_id IN (?, ?) ORDER BY room_id",
                          "hefei", "weihai")
    assert [tuple(row) for row in rows] == [("hefei", "二"), ("weihai", "一")]


async def test_fold_collation_and_string_agg_mean_the_same_on_both(store):
    db = store._db
    d = db.dialect
    # Case folding beyond ASCII (SQLite's own lower() would leave Ü).
    assert (await db.fetch_one(f"SELECT {d.fold('CAST(? AS TEXT)')}", "MÜLLER Ä"))[0] == "müller ä"
    # Code-point order: 'B' < 'a' < 'É' < '中', whatever the database's collation.
    names = ["中", "É", "a", "B"]
    values = ", ".join(["(CAST(? AS TEXT))"] * len(names))
    rows = await db.fetch(f"SELECT v.column1 FROM (VALUES {values}) v"
                          f" ORDER BY {d.code_point_order('v.column1')}", *names)
    assert [row[0] for row in rows] == ["B", "a", "É", "中"]
    joined = (await db.fetch_one(f"SELECT {d.string_agg('v.column1', ' ')} FROM (VALUES {values}) v",
                                 *names))[0]
    assert sorted(joined.split(" ")) == sorted(names)
