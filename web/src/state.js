// The store: the client's state in one object, and the listeners told when it changed. Each
// field belongs to one subject module under subjects/, the only code that writes it; views read
// it and call that module's named actions (docs/decisions.md, "The web client"). Listeners
// run once per animation frame however many changes came (50 messages a second are one render).
import { initialLanguage } from "./i18n.js";

export const state = {
  lang: initialLanguage(), // subjects/language.js
  booted: false, // subjects/session.js: the session was asked for
  user: null, // subjects/session.js: {id, name, role, email}
  profile: null, // subjects/session.js
  limits: { max_body_chars: null }, // subjects/session.js: what the server refuses (GET /api/v1/sessions)
  drafts: new Map(), // subjects/drafts.js: room id -> the text in its message box (kept in localStorage)
  conn: "connecting", // subjects/connection.js
  connVia: "ws", // subjects/connection.js: "ws", or "http" (the long-polling fallback)
  rooms: [], // subjects/rooms.js: GET /api/v1/rooms, each with its unread count
  directMembers: new Map(), // subjects/rooms.js: direct room id -> [{id, name, time_zone}] (their title)
  current: null, // subjects/current.js: room id shown now
  data: new Map(), // subjects/messages.js: room id -> its loaded messages and side panels
  editing: null, // subjects/outbox.js: {room, id} of the message whose edit form is open
  sending: new Map(), // subjects/outbox.js: cid -> {room, body}: shown greyed until acked (kept in localStorage)
  returnedFiles: new Map(), // subjects/outbox.js: room -> the files of a refused send, back in its box
  notice: null, // subjects/outbox.js, conversations.js: {room, text, info?}: the last refused send, edit,
  // delete or reaction; with info, a note rather than an error
  blocked: new Set(), // subjects/blocks.js: ids of the members this user blocked
  moderationNotice: null, // subjects/moderation.js: a moderator's warning or mute of this member, shown until dismissed
  // subjects/notifications.js: unread is the badge; list what the notifications view shows,
  // newest first (null: closed)
  notifications: { unread: 0, list: null, next: null, readEvents: 0 },
  announce: "", // the aria-live text: set by the subject whose news it is
  card: null, // subjects/people.js: the profile card open, {id, member, error}
  // subjects/webinars.js: byId: id -> webinar (as last known); lists: when -> {ids, next} (shown
  // listings); byRoom: listing room -> ids of its upcoming and live ones; missing: ids not found
  webinars: { byId: new Map(), lists: {}, byRoom: new Map(), missing: new Set() },
  // subjects/projects.js: byId: id -> project (as last known); list: {ids, next} (the listing
  // shown); timelines: project id -> {items, next} (its updates, newest first)
  projects: { byId: new Map(), list: null, timelines: new Map() },
  // subjects/library.js: byId: id -> document (a page's copy has versions and discussed); list:
  // the list shown {ids, next}; missing: ids not found
  library: { byId: new Map(), list: null, missing: new Set() },
  // subjects/search.js: the results shown (list: {ids, next}; byId: "kind:id" -> result)
  search: { byId: new Map(), list: null },
  boards: new Map(), // subjects/board.js: webinar id -> its Q&A board and polls (as last known)
};

const listeners = new Set();
let scheduled = false;

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function changed() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    for (const listener of listeners) listener();
  });
}
