-- Email notifications (issue 15; chat/mail/notices.py, chat/store/mail_notices.py, docs/operations.md
-- "Email notifications"): what the producers have done, so each email goes out once across nodes.

-- Each member's unread-notification emails. The notifications up to mailed_through_id have
-- been dealt with (mailed, or passed over: read, muted, switched off). A node that takes the
-- next batch sets batch_through_id (its last notification) and a lease; when the lease lapses
-- before the batch is finished, another node takes over the same batch (the same dedupe key:
-- one email). last_mailed_ms: when the last one went out (one email per delay at most).
CREATE TABLE mail_notice_state (
    user_id           BIGINT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    mailed_through_id BIGINT NOT NULL DEFAULT 0,
    batch_through_id  BIGINT,
    lease_until_ms    BIGINT NOT NULL DEFAULT 0,
    last_mailed_ms    BIGINT NOT NULL DEFAULT 0
);
-- Notifications made before this migration are never mailed.
INSERT INTO mail_notice_state (user_id, mailed_through_id)
    SELECT user_id, max(notification_id) FROM notifications GROUP BY user_id;
-- What the producers scan: the recent notifications.
CREATE INDEX notifications_created ON notifications (created_at_ms);

-- One piece of periodic mail work done by one node: a webinar's reminders for one start time
-- ("webinar_reminder:<room>:<starts_at_ms>"), a member's digest for one period
-- ("digest:<user>:<period>"). Claimed with a lease, then marked done; a lapsed lease is taken
-- over by another node (its emails carry dedupe keys, so none goes twice).
CREATE TABLE mail_jobs (
    job_key        TEXT PRIMARY KEY,
    lease_until_ms BIGINT NOT NULL,
    done_at_ms     BIGINT
);
