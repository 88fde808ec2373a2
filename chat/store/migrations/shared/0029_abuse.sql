-- Abuse limits (issue 15, chat/store/abuse.py). spam_texts: which rooms each author sent a
-- text to lately, by the digest of its normalised form (never the text), for the check that
-- refuses the same text in too many rooms; rows older than the window are pruned.
-- used_challenges: registration challenges already spent (their digest), kept until they
-- expire, so each is used once on every node.
CREATE TABLE spam_texts (
    user_id BIGINT NOT NULL,
    digest  TEXT NOT NULL,
    room_id TEXT NOT NULL,
    sent_ms BIGINT NOT NULL,
    PRIMARY KEY (user_id, digest, room_id)
);
CREATE INDEX spam_texts_sent ON spam_texts (sent_ms);

CREATE TABLE used_challenges (
    digest     TEXT PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX used_challenges_expires ON used_challenges (expires_ms);
