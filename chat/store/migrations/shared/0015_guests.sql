-- Webinar guests (issue 11; docs/protocol.md, "Guests (webinars)"; docs/decisions.md, "Webinar
-- guests"): a guest is a users row whose guest_of names the one webinar (its room) the guest may
-- take part in. Members have NULL. The role stays 'member' (a CHECK SQLite cannot change in
-- place); the email is a random placeholder that is no address, the password hash an unusable
-- string, so a guest can never log in, only use the session it was given.
ALTER TABLE users ADD COLUMN guest_of TEXT REFERENCES rooms (room_id);
CREATE INDEX users_guest_of ON users (guest_of);
