-- A delete blanks every copy of a message's text. Before this release a delete blanked the
-- message and dropped its versions but left the bodies of its earlier `edit` events in the
-- room log, where a reader resuming with `since` got them again. Blank them for the messages
-- deleted so far (and drop any version row left over), as deletes now do themselves.
UPDATE messages SET body = '', html = ''
 WHERE kind = 'edit'
   AND (body <> '' OR html <> '')
   AND target_id IN (SELECT message_id FROM messages WHERE kind = 'message' AND deleted);

DELETE FROM message_versions
 WHERE message_id IN (SELECT message_id FROM messages WHERE kind = 'message' AND deleted);
