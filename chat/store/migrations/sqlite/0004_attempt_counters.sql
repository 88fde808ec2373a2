-- Attempt counters for login and registration limits (chat/accounts/throttle.py): one row per
-- key, a fixed window, incremented atomically before the password is checked (an UPSERT), so
-- concurrent guesses are all counted. Replaces login_failures, which was read before and
-- written after the check.
CREATE TABLE attempt_counters (
    key           TEXT PRIMARY KEY,
    attempts      INTEGER NOT NULL,
    window_end_ms BIGINT NOT NULL
);
CREATE INDEX attempt_counters_window_end ON attempt_counters (window_end_ms);
DROP TABLE login_failures;
