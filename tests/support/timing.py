"""All test timeouts scale from one unit (ECOLINK_TEST_TIMEOUT_UNIT, seconds; default 1)."""

import os

UNIT_S = float(os.environ.get("ECOLINK_TEST_TIMEOUT_UNIT", "1"))


def timeout(units: float) -> float:
    return units * UNIT_S
