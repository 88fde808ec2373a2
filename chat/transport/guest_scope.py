"""What a webinar's guest may call over HTTP: the one rule, applied by `current_user`
(chat/transport/http.py) to every authenticated route (docs/protocol.md, "Guests (webinars)").

A guest's session is for one webinar (User.guest_of). A route not in GUEST_ROUTES answers a
guest 403 `guest_scope`; a route in it answers 404 when its `{webinar}` or `{room}` is not the
guest's own webinar (the answer an unknown webinar or room gets, so nothing leaks). The rooms a
guest may join over the WebSocket and the poll transport are the room service's rule
(RoomService.visible_room). tests/e2e/test_guests.py walks the app's route list, so a new route
refuses guests unless it is added here.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from chat.errors import GuestScope, NotFound
from chat.models import User

# (method, path) as the route table spells them (chat/transport/app.py).
GUEST_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/api/v1/sessions"),
    ("DELETE", "/api/v1/sessions"),
    ("GET", "/api/v1/webinars/{webinar}"),
    ("GET", "/api/v1/webinars/{webinar}/calendar.ics"),
    ("GET", "/api/v1/webinars/{webinar}/board"),
    ("GET", "/api/v1/webinars/{webinar}/export"),
    ("POST", "/api/v1/webinars/{webinar}/questions"),
    ("PATCH", "/api/v1/webinars/{webinar}/questions/{question}"),
    ("PUT", "/api/v1/webinars/{webinar}/questions/{question}/vote"),
    ("DELETE", "/api/v1/webinars/{webinar}/questions/{question}/vote"),
    ("PUT", "/api/v1/webinars/{webinar}/polls/{poll}/answer"),
    ("GET", "/api/v1/rooms/{room}/messages"),
    # Search: the store lets a guest find their webinar's entries only.
    ("GET", "/api/v1/search"),
    # Files attached in their webinar's room (FileService.readable decides; uploads are refused).
    ("GET", "/api/v1/files/{file}"),
    ("GET", "/api/v1/files/{file}/preview"),
    ("GET", "/api/v1/files/{file}/meta"),
})
# The path parameters that name a webinar (or its room): a guest's must be their own.
SCOPED_PARAMS = ("webinar", "room")


def check_guest_scope(conn: HTTPConnection, user: User) -> None:
    """Raise GuestScope (403) or NotFound (404) unless `user` may call this route; members
    pass."""
    if user.guest_of is None:
        return
    method = conn.scope.get("method", "GET")
    path = getattr(conn.scope.get("route"), "path", None)
    if ("GET" if method == "HEAD" else method, path) not in GUEST_ROUTES:
        raise GuestScope("a guest's session is for their webinar only")
    for name in SCOPED_PARAMS:
        value = conn.path_params.get(name)
        if value is not None and value != user.guest_of:
            raise NotFound(f"no such {name}")
