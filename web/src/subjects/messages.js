// Each room's loaded messages, in seq order: the latest page when the room is first shown,
// older pages as the reader scrolls back, live entries from the socket, and a `resync` gap
// fetched over HTTP. Opened at an older message (a search result, a link with its seq), the
// room holds the page around it instead, `behind` the live end: newer pages come as the reader
// scrolls down, and live entries wait in `held` until the pages reach them, so the loaded
// messages never have a hole. A message's fields are replaced, never edited in place below the top
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
    // run: counts the times `messages` was replaced by another run (loadAround, loadLatestAgain):
    // a page asked for before that belongs to the old run and is dropped.
    data = { messages: [], byId: new Map(), loaded: false, atStart: false, behind: false, held: [], run: 0,
             presence: new Map(), typing: new Map(), topics: [], news: [], meta: null };
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
  const run = data.run;
  let messages;
  let events;
  try {
    ({ messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?limit=${PAGE}`));
  } catch (err) {
    if (run !== data.run) return;
    data.loading = false;
    // A link to a room that does not exist (or is not this member's, the same answer): the
    // room view says so instead of showing an empty room.
    if (err.status === 404 || err.status === 400) { data.missing = true; data.loaded = true; return; }
    throw err;
  }
  if (run !== data.run) return; // opened at an older message meanwhile: that run is shown
  for (const message of messages) putMessage(data, message);
  putEvents(room, events);
  data.atStart = messages.length < PAGE;
  data.loaded = true;
  data.loading = false;
  // Joined already (listed rooms are joined from their head at start): the page above is
  // newer than the join, so nothing is missing. Else replay whatever followed the page.
  if (!connection.rooms.has(room)) connection.join(room, messages.length ? messages[messages.length - 1].seq : 0);
}

// Opening a room at an older message (`seq`; views/messagelist.js shows it, views/attention.js
// highlights it): the page around it, up to AROUND_AFTER messages after it and the rest before. Kept
// as it is when the message is loaded already; else the loaded pages are dropped for this one.
const AROUND_AFTER = 25;
export async function loadAround(room, seq) {
  const data = roomData(room);
  if (data.loaded && data.messages.length && data.messages[0].seq <= seq
      && (data.behind ? data.messages[data.messages.length - 1].seq >= seq : true)) return;
  const run = ++data.run; // (a latest page or an older jump still on its way is dropped)
  data.loading = true;
  let messages;
  let events;
  try {
    ({ messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?before=${seq + AROUND_AFTER}&limit=${PAGE}`));
  } catch (err) {
    if (run !== data.run) return;
    data.loading = false;
    if (err.status === 404 || err.status === 400) { data.missing = true; data.loaded = true; return; }
    throw err;
  }
  if (run !== data.run) return; // a later jump won
  const joined = connection.rooms.has(room);
  const last = messages.length ? messages[messages.length - 1].seq : seq;
  const head = Math.max(connection.rooms.get(room) ?? 0, state.rooms.find((r) => r.id === room)?.seq ?? 0);
  // Entries live while the page loaded, and any loaded or held before, are kept only if they
  // follow on from this page without a hole; else held until the pages reach them. The
  // timeline's lines come again with each page (its `events`).
  const live = [...data.messages, ...data.held].filter((m) => m.seq > last);
  data.messages = [];
  data.byId = new Map();
  data.events = [];
  for (const message of messages) putMessage(data, message);
  putEvents(room, events);
  data.atStart = messages.length < PAGE;
  // Joined already, live entries continue at the head, so what lies between is fetched by
  // loadNewer; not joined, the join below replays it (or resyncs), which fills it.
  data.behind = joined && last < head;
  data.held = data.behind ? live : [];
  if (!data.behind) for (const message of live) putMessage(data, message);
  data.loaded = true;
  data.loading = false;
  if (!joined) connection.join(room, last);
  changed();
}

// The page after the last loaded message, while the room is behind its live end (opened at an
// older message). Reaching the end, the entries held meanwhile join the list. True when
// messages came.
export async function loadNewer(room) {
  const data = roomData(room);
  if (!data.behind || data.loadingNewer || !data.messages.length) return false;
  data.loadingNewer = true;
  const run = data.run;
  try {
    const last = data.messages[data.messages.length - 1].seq;
    const { messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?after=${last}&limit=${PAGE}`);
    if (run !== data.run) return false; // another run is shown now
    for (const message of messages) putMessage(data, message);
    putEvents(room, events);
    if (messages.length < PAGE) {
      // The page read after these arrived holds them as they are now (edited, say): only
      // those it does not have are added.
      for (const message of data.held) if (!data.byId.has(message.id)) putMessage(data, message);
      data.held = [];
      data.behind = false;
    }
    return messages.length > 0;
  } catch {
    return false; // offline or refused: the next scroll asks again
  } finally {
    data.loadingNewer = false;
    changed();
  }
}

// Back to the live end of a room opened at an older message: the latest page instead.
export async function loadLatestAgain(room) {
  const data = roomData(room);
  if (!data.behind) return;
  data.run += 1;
  data.behind = false;
  data.held = [];
  data.messages = [];
  data.byId = new Map();
  data.atStart = false;
  await loadLatest(room);
  changed();
}

export async function loadOlder(room) {
  const data = roomData(room);
  if (data.atStart || data.loadingOlder || !data.messages.length) return false;
  data.loadingOlder = true;
  const first = data.messages[0].seq;
  const run = data.run;
  try {
    const { messages, events } = await api("GET", `/api/v1/rooms/${room}/messages?before=${first}&limit=${PAGE}`);
    if (run !== data.run) return false; // another run is shown now
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
  if (data.behind) data.held.push({ reactions: {}, ...message });
  else if (data.loaded || data.loading) putMessage(data, message);
}

// The message an edit, delete or reaction is about, loaded or held.
function targetOf(frame) {
  const data = roomData(frame.room);
  return data.byId.get(frame.target) || data.held.find((m) => m.id === frame.target);
}

export function onEdit(frame) {
  const target = targetOf(frame);
  if (target) Object.assign(target, { body: frame.body, html: frame.html, edited_at: frame.sent_at });
}

export function onDelete(frame) {
  const target = targetOf(frame);
  if (target) Object.assign(target, { body: "", html: "", deleted: true, reactions: {}, attachments: undefined });
}

export function onReaction(frame) {
  const target = targetOf(frame);
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
  if (data.behind) return; // opened at an older message: loadNewer's pages bring these
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
