-- Consent in direct conversations, second part (docs/decisions.md, "Consent in direct
-- conversations"): what a member who left for good left behind, so that nobody else can start
-- the same conversation with them again, and so that their own return never shows them what
-- was said while they were away.

-- Direct rooms: the sorted ids of the members a room started with. Set at creation and never
-- cleared (member_key is cleared once an add changes who is in the room). Rooms whose
-- member_key was cleared before this migration have none.
ALTER TABLE rooms ADD COLUMN origin_key TEXT;
UPDATE rooms SET origin_key = member_key WHERE kind = 'direct' AND member_key IS NOT NULL;

-- For a member who left for good: the sorted ids of the members the room had when they left
-- (them included), and the room's head seq then. NULL for leaves before this migration.
ALTER TABLE room_members ADD COLUMN left_with   TEXT;
ALTER TABLE room_members ADD COLUMN left_at_seq INTEGER;
-- No index on either: the check reads them only for the members it names
-- (room_members_user), never searching by key.
