-- Two-factor sign-in and account deletion (issue 15, H4; docs/protocol.md, "Two-factor sign-in"
-- and "Deleting an account").

-- A member's TOTP secret (base32, RFC 6238: 30 s, 6 digits). enabled_at_ms NULL: set up but not
-- yet confirmed with a code (no effect on sign-in). last_step: the last time step accepted, so
-- a code is never accepted twice (an UPDATE … WHERE last_step < ? decides, on every node).
CREATE TABLE two_factor (
    user_id       BIGINT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    secret        TEXT NOT NULL,
    enabled_at_ms BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_ms    BIGINT NOT NULL
);

-- Single-use recovery codes: only a hash of each is kept (chat/accounts/two_factor.py).
CREATE TABLE recovery_codes (
    user_id    BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    used_at_ms BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A deleted account: its row stays (messages kept under "deleted member" point at it), with
-- every personal field blanked (chat/store/deletion.py). NULL: a live account.
ALTER TABLE users ADD COLUMN deleted_at_ms BIGINT;
