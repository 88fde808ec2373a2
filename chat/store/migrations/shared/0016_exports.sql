-- Transcript exports (issue 12; docs/protocol.md, "Exports"). An export's time range is turned
-- into a seq range once, by the first entry sent at or after `from` and the last one sent before
-- `to` (chat/store/exports.py): two index lookups whatever the room's size, then pages by seq on
-- the primary key.
CREATE INDEX messages_room_sent ON messages (room_id, sent_at_ms, seq);
