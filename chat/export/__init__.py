"""Transcript export (issue 12): any conversation a member can read, personal data, and admins'
compliance exports, streamed in Markdown, HTML, PDF, JSON Lines and CSV.

A service package (docs/architecture.md, "Layers"): `records.py` is what a transcript holds,
`formats/` turns records into bytes (pure, no I/O), the service reads the store page by page and
yields the bytes; chat/transport/export.py serves them, `ecolink export` writes them to a file.
"""
