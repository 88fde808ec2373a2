"""Time zones members may give: the IANA names this machine's zone database knows."""

from __future__ import annotations

import functools
import zoneinfo

MAX_TIME_ZONE_CHARS = 64
# Names in available_timezones() that are not zones a person lives in.
NOT_ZONES = frozenset({"Factory", "localtime", "posixrules"})
ZONE_PROBLEM = "must be an IANA time zone such as Asia/Shanghai or Europe/Berlin"


@functools.cache
def time_zones() -> frozenset[str]:
    """The IANA zone names this machine knows (reading them takes ~50 ms, so once)."""
    return frozenset(zoneinfo.available_timezones() - NOT_ZONES)


def is_time_zone(value: object) -> bool:
    return isinstance(value, str) and len(value) <= MAX_TIME_ZONE_CHARS and value in time_zones()
