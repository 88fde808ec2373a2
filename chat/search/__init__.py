"""Search over everything a member can read (docs/protocol.md, "Search"; docs/decisions.md,
"Search: CJK bigrams in Python"). tokens.py, query.py and snippets.py are pure (values in,
values out) and used by the stores as well as by the service; service.py is the service."""
