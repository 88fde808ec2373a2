-- Attachments (issue 13, docs/protocol.md "Attachments"): the files a topic's or news post's
-- body and a webinar's description hold, as the JSON list of their wire dicts (chat/files
-- shapes), so a read needs no join. A message keeps its own in messages.data.
ALTER TABLE topics ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
ALTER TABLE webinars ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
