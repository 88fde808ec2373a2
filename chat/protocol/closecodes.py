"""WebSocket close codes the server uses (docs/protocol.md lists them with what to do)."""

NORMAL = 1000
# RFC 6455 §7.4.1: 1009 "message too big" — uvicorn sends it for frames over max_frame_bytes.
TOO_BIG = 1009
# RFC 6455 / IANA registry: 1012 "service restart" — the node is shutting down; reconnect
# (to any node) and resume with `since`.
SERVICE_RESTART = 1012
# Application codes (4000-4999, RFC 6455 §7.4.2).
# The session of the connection's token ended (logout, or it expired): the token is dead, so
# do not reconnect with it; log in again for a new one. (Mirrors HTTP 401, as 4008/4029 do.)
SESSION_ENDED = 4001
SLOW_CONSUMER = 4008  # the client read too slowly; reconnect and resume with `since`
RATE_LIMITED = 4029  # too many frames over the limit; back off before reconnecting
