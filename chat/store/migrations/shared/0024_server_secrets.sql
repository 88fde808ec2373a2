-- Secrets every node shares without configuration (issue 15): the keys that sign one-click
-- unsubscribe links and registration challenges. Made once, at first use, by whichever node
-- asks first (chat/store/secrets.py); hex text so both dialects read the same column.
CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY,
    value_hex  TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
