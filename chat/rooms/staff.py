"""StaffGate: the one check a moderator's or admin's privilege passes, besides the role. node.py
gives it two-factor's staff check (chat/accounts/two_factor.py: ECOLINK_ADMIN_TWO_FACTOR); the
services call `check` where they use staff privilege (moderation, deleting or editing another's
message, news, pins, webinars, projects, library reviews; the admin routes through
RoomService.staff). Without a check installed it passes everyone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from chat.models import User

# Raises the ChatError that refuses a staff action (two_factor_setup_required).
StaffCheck = Callable[[User], Awaitable[None]]


class StaffGate:
    def __init__(self) -> None:
        self._checks: list[StaffCheck] = []

    def use(self, check: StaffCheck) -> None:
        """Every staff action also passes `check`."""
        self._checks.append(check)

    async def check(self, user: User) -> None:
        """Raise what refuses `user` a staff action (the role checks stay the caller's)."""
        for check in self._checks:
            await check(user)
