"""The transport layer: the only code that imports Starlette (HTTP routes and /ws)."""
