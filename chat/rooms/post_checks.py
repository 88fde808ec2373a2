"""PostChecks: the one ordered list of checks every new post passes — messages and their edits
(RoomService), topics, news and new conversations (ConversationService), webinar questions
(BoardService). Cheap checks first, the ones that read the store next, the ones that spend
something (a new account's send budget) last, so a post refused by any check spends nothing.
node.py adds the checks: the abuse limits (chat/rooms/abuse.py), a verified address
(chat/accounts/recovery.py), a moderator's mute (chat/moderation/)."""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from chat.models import User

# Where each check runs in the list (lower first).
LINKS: Final = 10  # in memory: a new account's links to other sites
AUTHOR: Final = 20  # one read: who may post at all (a verified address)
MUTE: Final = 30  # one read: a mute in the post's room
SPAM: Final = 40  # one read: the same text in too many rooms
BUDGET: Final = 90  # spends: a new account's send budget


@dataclass(frozen=True, slots=True)
class Post:
    """What is being posted: by whom, where (a room, or a webinar for its questions; None for
    news and a new conversation, which no mute or spam check covers), its texts (links are
    looked for in all, the spam check compares the last: the body), and whether it is new (False: an edit, which only the
    links, mute and budget checks concern)."""

    user: User
    room_id: str | None
    texts: tuple[str, ...] = ()
    new: bool = True


# Told once the post is committed (the spam check records its text).
Noted = Callable[[], None]
# Raises the ChatError that refuses the post; may return what to do once it is committed.
PostCheck = Callable[[Post], Awaitable[Noted | None]]


@dataclass(slots=True)
class PostChecks:
    _checks: list[tuple[int, int, PostCheck]] = field(default_factory=list)

    def add(self, order: int, check: PostCheck) -> None:
        """Run `check` at `order` (LINKS, AUTHOR, MUTE, SPAM, BUDGET); equal orders keep the
        order they were added in."""
        bisect.insort(self._checks, (order, len(self._checks), check), key=lambda entry: entry[:2])

    async def run(self, post: Post) -> list[Noted]:
        """Run every check in order (the first refusal raises, later ones do not run); returns
        what to call once the post is committed."""
        after: list[Noted] = []
        for _, _, check in self._checks:
            done = await check(post)
            if done is not None:
                after.append(done)
        return after


def of_author(check: Callable[[User], Awaitable[None]]) -> PostCheck:
    """A check of who may author new posts at all (edits pass) as a post check."""
    async def author_check(post: Post) -> None:
        if post.new:
            await check(post.user)
    return author_check


def committed(after: list[Noted]) -> None:
    for done in after:
        done()
