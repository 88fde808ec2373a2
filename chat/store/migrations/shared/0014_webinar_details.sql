-- Webinars, what the schedule row of 0012 lacks (docs/protocol.md, "Webinars"): the description
-- rendered and sanitised once when it is written (as topics keep body_html), and the calendar
-- SEQUENCE, raised by every edit and the cancellation, so calendars replace the old copy.
ALTER TABLE webinars ADD COLUMN description_html TEXT NOT NULL DEFAULT '';
ALTER TABLE webinars ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
