-- The one-round-trip append (issue 17; docs/decisions.md, "Appending in one round trip"): a batch
-- of plain messages (kind 'message', no target) is appended by one call of this function,
-- autocommitted, instead of the group commit's transaction of seven round trips (BEGIN, lock the
-- head, find repeated cids, insert, advance the head, index, COMMIT). It does what that
-- transaction does for such a batch (chat/store/append.py and batch.py), in the same order:
--
-- * the sends arrive sorted by room (the lock order every writer uses, so no deadlock); each
--   room's head row is locked (FOR UPDATE) before its first send, and a send for a room that
--   does not exist gets a row with a NULL seq (the caller answers `not_found`);
-- * a send whose (room, author, cid) is stored already, by an earlier batch or earlier in this
--   one, gets the stored (seq, message_id) back and stores nothing (invariant 3): the insert
--   finds it through the unique index (ON CONFLICT DO NOTHING), and its row is returned whole
--   (read under the lock, so the one call is the only round trip); the caller tells it from a
--   new one by the message id: a new message has the id the caller proposed;
-- * a new message takes the head + 1 (gapless, in batch order; invariant 2), its mentions of
--   existing non-guest members, and, when p_index, its search entry (terms computed by the
--   caller before the call, chat/store/search.py);
-- * each room's head is advanced once, and a topic's or news post's reply count and last
--   activity with it.
--
-- A new column of messages, mentions or search_entries that this function must fill means a
-- new migration that replaces it (CREATE OR REPLACE), beside the transaction's statements.
CREATE FUNCTION ecolink_append_messages(
    p_sent_at BIGINT, p_rooms TEXT[], p_authors BIGINT[], p_cids TEXT[], p_ids TEXT[],
    p_bodies TEXT[], p_htmls TEXT[], p_data TEXT[],
    p_mention_ords INT[], p_mention_users BIGINT[],
    p_index BOOLEAN, p_languages TEXT[], p_terms TEXT[], p_has_files BOOLEAN[])
RETURNS TABLE (o_ord INT, o_seq BIGINT, o_message_id TEXT,
               -- a repeat's stored message (NULL for a new one, which the caller has):
               o_author_name TEXT, o_body TEXT, o_sent_at BIGINT, o_kind TEXT, o_target_id TEXT,
               o_html TEXT, o_data TEXT, o_edited_at BIGINT, o_deleted BOOLEAN, o_role TEXT)
LANGUAGE plpgsql AS $$
DECLARE
    v_room  TEXT;              -- the room whose head is locked
    v_found BOOLEAN := FALSE;  -- whether it exists
    v_head  BIGINT;
    v_kind  TEXT;
    v_new   INT := 0;          -- messages added to it by this call
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_rooms, 1), 0) + 1 LOOP
        IF i > coalesce(array_length(p_rooms, 1), 0) OR v_room IS DISTINCT FROM p_rooms[i] THEN
            IF v_new > 0 THEN  -- the previous room is done
                UPDATE rooms SET head_seq = v_head WHERE room_id = v_room;
                IF v_kind IN ('topic', 'news') THEN
                    UPDATE topics SET reply_count = reply_count + v_new, last_activity_ms = p_sent_at
                     WHERE topic_id = v_room;
                END IF;
            END IF;
            EXIT WHEN i > coalesce(array_length(p_rooms, 1), 0);
            v_room := p_rooms[i];
            v_new := 0;
            SELECT r.head_seq, r.kind INTO v_head, v_kind FROM rooms r WHERE r.room_id = v_room FOR UPDATE;
            v_found := FOUND;
        END IF;
        o_ord := i;
        o_seq := NULL; o_message_id := NULL; o_author_name := NULL; o_body := NULL; o_sent_at := NULL;
        o_kind := NULL; o_target_id := NULL; o_html := NULL; o_data := NULL; o_edited_at := NULL;
        o_deleted := NULL; o_role := NULL;
        IF v_found THEN
            -- The unique (room_id, author_id, cid) index decides whether the send is new: it is
            -- the insert's arbiter, so no plan can choose another way to find a repeat (a cached
            -- generic plan of a lookup that walked the room's log instead grew with the room).
            INSERT INTO messages (room_id, seq, message_id, author_id, cid, body, sent_at_ms,
                                  kind, target_id, html, data)
            VALUES (v_room, v_head + 1, p_ids[i], p_authors[i], p_cids[i], p_bodies[i], p_sent_at,
                    'message', NULL, p_htmls[i], p_data[i])
            ON CONFLICT (room_id, author_id, cid) DO NOTHING
            RETURNING seq, message_id INTO o_seq, o_message_id;
            IF NOT FOUND THEN
                -- A repeat (rare): the stored message, read under the room's lock, as the
                -- transaction's outcome gives it (chat/store/rows.py MESSAGE_COLUMNS); planned
                -- for its values each time (EXECUTE), never generic.
                EXECUTE 'SELECT m.seq, m.message_id, u.display_name, m.body, m.sent_at_ms, m.kind,'
                        ' m.target_id, m.html, m.data, m.edited_at_ms, m.deleted,'
                        ' CASE WHEN u.guest_of IS NULL THEN u.role ELSE ''guest'' END'
                        ' FROM messages m JOIN users u ON u.user_id = m.author_id'
                        ' WHERE m.room_id = $1 AND m.author_id = $2 AND m.cid = $3'
                   INTO o_seq, o_message_id, o_author_name, o_body, o_sent_at, o_kind, o_target_id,
                        o_html, o_data, o_edited_at, o_deleted, o_role
                  USING v_room, p_authors[i], p_cids[i];
            ELSE
                v_head := v_head + 1;
                v_new := v_new + 1;
                IF i = ANY (p_mention_ords) THEN
                    INSERT INTO mentions (message_id, user_id)
                    SELECT o_message_id, u.user_id
                      FROM unnest(p_mention_ords, p_mention_users) AS x(ord, mentioned)
                      JOIN users u ON u.user_id = x.mentioned AND u.guest_of IS NULL
                     WHERE x.ord = i
                    ON CONFLICT DO NOTHING;
                END IF;
                IF p_index THEN
                    INSERT INTO search_entries AS e (kind, ref_id, room_id, seq, author_id, created_at_ms,
                                                     title, body, has_files, language, terms)
                    VALUES ('message', o_message_id, v_room, o_seq, p_authors[i], p_sent_at, '',
                            p_bodies[i], p_has_files[i], p_languages[i], p_terms[i])
                    ON CONFLICT (kind, ref_id) DO UPDATE SET room_id = excluded.room_id,
                        seq = excluded.seq, author_id = excluded.author_id,
                        created_at_ms = excluded.created_at_ms, title = excluded.title,
                        body = excluded.body, has_files = excluded.has_files,
                        language = excluded.language, terms = excluded.terms;
                END IF;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
