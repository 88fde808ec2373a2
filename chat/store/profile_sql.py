"""The profile and member-directory SQL both stores share. What differs (the string
aggregate, case folding, the collation that makes ordering code-point order) comes from the
handle's Dialect (chat/store/dialect.py)."""

from __future__ import annotations


from chat.models import MemberQuery, Profile, ProfileChanges
from chat.store.database import Row
from chat.store.dialect import Dialect, Param

# ProfileChanges fields stored as users columns (the names are the same; a fixed list, so
# building SET clauses from it is safe).
USER_FIELDS = ("display_name", "affiliation", "organisation", "country", "city", "bio",
               "alt_name", "search_key")
# The zone a member has not set is stored as this, with time_zone_set = 0 (read as None).
UNSET_ZONE = "UTC"
TAG_FIELDS = {"sectors": "sector", "languages": "language"}


def profile_columns(dialect: Dialect) -> str:
    """A profile's columns, its tags included, so one statement reads a consistent profile.
    Tag values hold no space (sector ids and language tags are validated), and their order is
    set in Python."""

    def tags(tag: str) -> str:
        return (f"(SELECT {dialect.string_agg('t.value', ' ')} FROM user_tags t"
                f" WHERE t.user_id = u.user_id AND t.tag = '{tag}')")

    return (
        "u.user_id, u.display_name, u.role, u.affiliation, u.organisation, u.country, u.city,"
        f" u.time_zone, u.bio, u.created_at_ms, {tags('sector')}, {tags('language')},"
        " u.time_zone_set, u.alt_name, u.guest_of"
    )


def profile_from_row(row: Row) -> Profile:
    return Profile(
        user_id=row[0], display_name=row[1], role=row[2], affiliation=row[3],
        organisation=row[4], country=row[5], city=row[6],
        time_zone=row[7] if row[12] else None, bio=row[8], created_at_ms=row[9], alt_name=row[13],
        # Code-point order (Python's str order), the same on both stores.
        sectors=tuple(sorted((row[10] or "").split())),
        languages=tuple(sorted((row[11] or "").split())),
        guest_of=row[14],
    )


def changed_columns(changes: ProfileChanges) -> list[tuple[str, Param]]:
    columns: list[tuple[str, Param]] = [
        (name, value) for name in USER_FIELDS if (value := getattr(changes, name)) is not None]
    if changes.time_zone is not None:
        columns += [("time_zone", changes.time_zone or UNSET_ZONE),
                    ("time_zone_set", 1 if changes.time_zone else 0)]
    return columns


def changed_tags(changes: ProfileChanges) -> list[tuple[str, tuple[str, ...]]]:
    return [(tag, values) for name, tag in TAG_FIELDS.items()
            if (values := getattr(changes, name)) is not None]


def like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with ESCAPE '\\'."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def directory_sql(query: MemberQuery, dialect: Dialect) -> tuple[str, list[Param]]:
    """The directory page query and its parameters. The sort key (folded display name, in
    code-point order) is the last column; one row more than the limit is asked for, so the
    caller knows whether a next page exists."""
    fold = dialect.fold
    key = dialect.code_point_order(fold("u.display_name"))
    # Webinar guests are no members (docs/protocol.md, "Guests (webinars)"): never listed.
    where: list[str] = ["u.guest_of IS NULL", "u.deleted_at_ms IS NULL"]
    args: list[Param] = []

    def param(value: str | int) -> str:
        """Binds a value. The cast gives it a type where PostgreSQL cannot infer one (lower(?),
        row comparisons); on SQLite it changes nothing."""
        args.append(value)
        return f"CAST(? AS {'BIGINT' if isinstance(value, int) else 'TEXT'})"

    def has_tag(tag: str, condition: str) -> str:
        return (f"EXISTS (SELECT 1 FROM user_tags t WHERE t.user_id = u.user_id"
                f" AND t.tag = '{tag}' AND ({condition}))")

    if query.sector is not None:
        where.append(has_tag("sector", f"t.value = {param(query.sector)}"))
    if query.language is not None:
        # RFC 4647 §3.3.1 basic filtering: "zh" matches "zh" and "zh-…". Tags are stored and
        # queried in canonical case and hold only [A-Za-z0-9-], so the pattern needs no escape.
        where.append(has_tag("language", f"t.value = {param(query.language)}"
                                         f" OR t.value LIKE {param(query.language + '-%')}"))
    if query.affiliation is not None:
        where.append(f"u.affiliation = {param(query.affiliation)}")
    if query.city is not None:
        where.append(f"{fold('u.city')} = {fold(param(query.city))}")
    if query.text is not None:
        pattern = f"%{like_escape(query.text)}%"
        # search_key is stored folded (chat/accounts/search_keys.py); it is NULL only until the
        # node's start fills it in, and then the display name still matches.
        where.append(f"({fold('u.display_name')} LIKE {fold(param(pattern))} ESCAPE '\\'"
                     f" OR {fold('u.organisation')} LIKE {fold(param(pattern))} ESCAPE '\\'"
                     f" OR u.search_key LIKE {fold(param(pattern))} ESCAPE '\\')")
    if query.after is not None:
        sort_key, user_id = query.after
        where.append(f"({key}, u.user_id) > ({param(sort_key)}, {param(user_id)})")
    sql = (f"SELECT {profile_columns(dialect)}, {key} FROM users u"
           f" WHERE {' AND '.join(where)}"
           f" ORDER BY {key}, u.user_id LIMIT {param(query.limit + 1)}")
    return sql, args


# -- search keys filled in at start (rows from before migration 0009) ----------------------

MISSING_KEYS_SQL = ("SELECT user_id, display_name, alt_name FROM users"
                    " WHERE search_key IS NULL ORDER BY user_id LIMIT ?")
