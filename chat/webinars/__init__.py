"""Webinars (issue 11): scheduling, states, the audience chat's rules, registrations and the
calendar file. A webinar is a room of kind "webinar" (chat/store/webinars.py holds its row);
docs/protocol.md, "Webinars", is the contract."""
