-- The audit log (shared/0017_audit_log.sql has the rest of this version): who did what, when.
-- Generic: `action` names the kind of act ("export.compliance", "export.personal", and the
-- moderation actions to come), `detail` is a JSON object of its facts. actor_id is NULL for an
-- operator at the command line; actor_label says who it was as the log shows it.
CREATE TABLE audit_log (
    audit_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms       BIGINT NOT NULL,
    actor_id    INTEGER REFERENCES users (user_id),
    actor_label TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}'
);
