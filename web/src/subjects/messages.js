// Each room's loaded messages, in seq order: the latest page when the room is first shown,
// older pages as the reader scrolls back, live entries from the socket, and a `resync` gap
// fetched over HTTP. A message's fields are replaced, never edited in place below the top
// level (reactions get a new object), so views can compare them shallowly.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { connection } from "./connection.js";

const PAGE = 50;

// A room's entry in state.data, made on first use. The side panels (topics, news, meta,
// reads, presence, typing) are kept here by their own subject modules.
export function roomData(room) {
  let data = state.data.get(room);
  if (!data) {
    data = { messages: [], byId: new Map(), loaded: false, atStart: false, presence: new Map(),
             typing: new Map(), topics: [], news: [], meta: null };
    state.data.set(room, data);
  }
  return data;
}

export function dropRoom(room) {
  state.data.delete(room);
}

function putMessage(data, message) {
  const existing = data.byId.get(message.id);
  if (existing) {
    Object.assign(existing, message);
    return;
  }
  const entry = { reactions: {}, ...message };
  data.byId.set(entry.id, entry);
  const list = data.messages;
  if (!list.length || list[list.length - 1].seq < entry.seq) list.push(entry);
  else {
    const at = list.findIndex((m) => m.seq > entry.seq);
    list.splice(at, 0, entry);
  }
}

// A line of the timeline (views/timeline.js, placed after the messages up to its seq) for a
// `status` or `membership` entry of the room's log: a frame, live or replayed, or one of a
// history page's `events` (so a reloaded conversation shows what a live one showed). Each
// once (pages and replays may overlap), in seq order.
export function putEvent(room, frame) {
  const data = roomData(room);
  const event = timelineEvent(frame);
  const events = data.events || [];
  if (events.some((e) => e.key === event.key)) return;
  data.events = [...events, event].sort((a, b) => a.at - b.at);
}

// The timeline line of a status, membership or webinar entry (views/timeline.js draws it).
function timelineEvent(frame) {
  if (frame.type === "status") {
    return { key: `status-${frame.id}`, at: frame.seq, kind: "status", by: frame.author?.name, status: frame.status };
  }
  if (frame.type === "webinar") {
    const summary = frame.webinar || {};
    return { key: `webinar-${frame.id}`, at: frame.seq, kind: "webinar", change: frame.change, by: frame.author?.name,
             auto: Boolean(frame.auto), title: summary.title, mode: summary.chat?.mode, slow_s: summary.chat?.slow_s,
             listing: frame.room !== summary.id };
  }
  return { key: `membership-${frame.id}`, at: frame.seq, kind: "membership", change: frame.change,
           user: frame.user?.name, by: frame.by?.name };
}

function putEvents(room, events) {
  for (const frame of events || []) putEvent(room, frame);
}

// The latest page over HTTP, then `join` with since = its last seq, so what happened in
// between is replayed and nothing is missed or shown twice.
export async function loadLatest(room) {
  const data = roomData(room);
  // Live entries arriving while the page loads are kept (data.loading) and merged by id.
  data.loading = true;
  let messages;
  let events;
  try {
    ({ messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?limit=${PAGE}`));
  } catch (err) {
    data.loading = false;
    // A link to a room that does not exist (or is not this member's, the same answer): the
    // room view says so instead of showing an empty room.
    if (err.status === 404 || err.status === 400) { data.missing = true; data.loaded = true; return; }
    throw err;
  }
  for (const message of messages) putMessage(data, message);
  putEvents(room, events);
  data.atStart = messages.length < PAGE;
  data.loaded = true;
  data.loading = false;
  // Joined already (listed rooms are joined from their head at start): the page above is
  // newer than the join, so nothing is missing. Else replay whatever followed the page.
  if (!connection.rooms.has(room)) connection.join(room, messages.length ? messages[messages.length - 1].seq : 0);
}

export async function loadOlder(room) {
  const data = roomData(room);
  if (data.atStart || data.loadingOlder || !data.messages.length) return false;
  data.loadingOlder = true;
  const first = data.messages[0].seq;
  try {
    const { messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?before=${first}&limit=${PAGE}`);
    for (const message of messages) putMessage(data, message);
    putEvents(room, events);
    data.atStart = messages.length < PAGE;
    return messages.length > 0;
  } catch {
    return false; // offline or refused: the next scroll asks again
  } finally {
    data.loadingOlder = false;
    changed();
  }
}

// The earlier bodies of an edited message, oldest first (the Markdown source as written).
export async function messageVersions(room, messageId) {
  return (await api("GET", `/api/v1/rooms/${room}/messages/${messageId}/versions`)).versions;
}

// ---- frames ----------------------------------------------------------------------------

export function onMessage(frame) {
  const { type, ...message } = frame;
  const data = roomData(frame.room);
  if (data.loaded || data.loading) putMessage(data, message);
}

export function onEdit(frame) {
  const target = roomData(frame.room).byId.get(frame.target);
  if (target) Object.assign(target, { body: frame.body, html: frame.html, edited_at: frame.sent_at });
}

export function onDelete(frame) {
  const target = roomData(frame.room).byId.get(frame.target);
  if (target) Object.assign(target, { body: "", html: "", deleted: true, reactions: {}, attachments: undefined });
}

export function onReaction(frame) {
  const target = roomData(frame.room).byId.get(frame.target);
  if (!target) return;
  const users = new Set(target.reactions[frame.emoji] || []);
  if (frame.added) users.add(frame.author.id);
  else users.delete(frame.author.id);
  target.reactions = { ...target.reactions, [frame.emoji]: [...users] };
  if (!users.size) delete target.reactions[frame.emoji];
}

// A `resync`: the gap was too large to replay; fetch it over HTTP, page by page.
export function onResync(frame) {
  const { room } = frame;
  const since = connection.rooms.get(room) ?? 0;
  connection.rooms.set(room, frame.seq); // live entries continue after the head
  catchUp(room, since);
}

async function catchUp(room, since) {
  const data = roomData(room);
  let after = since;
  for (;;) {
    const { messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?after=${after}&limit=200`);
    for (const message of messages) putMessage(data, message);
    putEvents(room, events);
    if (messages.length < 200) break;
    after = messages[messages.length - 1].seq;
  }
  changed();
}
