-- Account recovery (issue 15): email verification, password reset, change of email, and the
-- sessions a member sees (chat/store/recovery.py; docs/protocol.md, "Account recovery").

-- When the member proved they read mail at their address (a verification, reset or email
-- change link); NULL: not proved. Accounts made before this version start unverified.
ALTER TABLE users ADD COLUMN email_verified_at_ms BIGINT;

-- What a member's session list shows. NULL on sessions made before this version.
ALTER TABLE sessions ADD COLUMN created_at_ms BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen_ms BIGINT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;

-- Links mailed to a member: single use, expiring. Only the SHA-256 of the token (hex) is kept;
-- `email` is the address the link was sent to (verify: the one to prove; email_change: the
-- new one). used_ms is set once, by the one confirmation that takes the token.
CREATE TABLE account_tokens (
    token_hash  TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL CHECK (purpose IN ('verify', 'reset', 'email_change')),
    user_id     BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_ms  BIGINT NOT NULL,
    expires_ms  BIGINT NOT NULL,
    used_ms     BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);
