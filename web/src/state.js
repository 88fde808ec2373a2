// Application state in one object, changed only through the functions below; views re-render
// once per animation frame however many frames arrived (50 messages a second are one render).
import { api } from "./api.js";
import { Connection } from "./socket.js";
import { applyLanguage, errorText, initialLanguage, saveLanguage, translate } from "./i18n.js";

const PAGE = 50;

export const state = {
  lang: initialLanguage(),
  user: null, // {id, name, role, email}
  profile: null,
  rooms: [], // GET /api/v1/rooms
  conn: "connecting",
  current: null, // room id shown now
  data: new Map(), // room id -> RoomData
  sending: new Map(), // cid -> {room, body}: shown greyed until acked
  directMembers: new Map(), // direct room id -> [{id, name, time_zone}] (their title)
  blocked: new Set(), // ids of the members this user blocked (GET /api/v1/me/blocks)
  announce: "", // the aria-live text
  notice: null, // {room, text, info?}: the last refused send, edit, delete or reaction; info: a note, no error
  // unread: the badge; list: what the notifications view shows, newest first (null: closed)
  notifications: { unread: 0, list: null, next: null, readEvents: 0 },
  booted: false,
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

export const t = (key, params) => translate(state.lang, key, params);
export const errorMessage = (error) => errorText(state.lang, error);

export function setLanguage(lang) {
  state.lang = lang;
  saveLanguage(lang);
  changed();
}

let opened = 0; // connections opened so far

export const connection = new Connection({
  onFrame: (frame) => {
    handleFrame(frame);
    changed();
  },
  onState: (conn) => {
    state.conn = conn;
    changed();
  },
  // Logged out elsewhere (another tab, or the token was revoked): show the login form.
  onSessionEnded: () => signedOut(),
  onOpen: () => {
    countOnPong = true;
    // The first connection joins from the room list signedIn() just fetched (joins replay
    // whatever came since); after a reconnect, rooms may have come or gone meanwhile.
    if (opened++ > 0) refreshRooms();
  },
});

function roomData(room) {
  let data = state.data.get(room);
  if (!data) {
    data = { messages: [], byId: new Map(), loaded: false, atStart: false, presence: new Map(),
             typing: new Map(), topics: [], news: [], meta: null };
    state.data.set(room, data);
  }
  return data;
}

export function getRoom(room) {
  return roomData(room);
}

export function roomInfo(room) {
  return state.rooms.find((r) => r.id === room);
}

export function roomTitle(room) {
  const info = typeof room === "string" ? roomInfo(room) : room;
  if (!info) return typeof room === "string" ? room : "";
  const title = info.title && typeof info.title === "object" ? info.title[state.lang] || info.title.en : info.title;
  if (title) return title;
  const members = info.members || state.directMembers.get(info.id);
  if (members) return members.filter((m) => m.id !== state.user?.id).map((m) => m.name).join(", ");
  return info.id;
}

// ---- session ---------------------------------------------------------------------------

export async function boot() {
  applyLanguage(state.lang);
  try {
    const { user } = await api("GET", "/api/v1/sessions");
    if (user) await signedIn(user);
  } catch {
    state.user = null;
  }
  state.booted = true;
  changed();
}

export async function signedIn(user) {
  state.user = user;
  // Neither needs the other: one round trip instead of two on a slow link.
  const [{ profile }, { blocked }] = await Promise.all([
    api("GET", "/api/v1/me/profile"), api("GET", "/api/v1/me/blocks"), refreshRooms()]);
  state.profile = profile;
  state.blocked = new Set(blocked.map((b) => b.id));
  connection.start(); // the unread notification count follows its first pong
  changed();
}

export async function logout() {
  await api("DELETE", "/api/v1/sessions").catch(() => {});
  connection.stop();
  signedOut();
}

function signedOut() {
  location.hash = "";
  location.reload();
}

export async function refreshRooms() {
  if (!state.user) return;
  state.rooms = (await api("GET", "/api/v1/rooms")).rooms;
  for (const room of state.rooms) {
    if (room.id === state.current) room.unread = 0;
  }
  changed();
  // Every listed room is joined from its head, so unread counts stay live everywhere;
  // a room's history is fetched only when it is opened.
  for (const room of state.rooms) {
    if (!connection.rooms.has(room.id)) connection.join(room.id, room.seq || 0);
  }
  const unnamed = state.rooms.filter((r) => r.kind === "direct" && !state.directMembers.has(r.id));
  await Promise.all(unnamed.map(async (r) => {
    state.directMembers.set(r.id, (await api("GET", `/api/v1/rooms/${r.id}/members`)).members);
  }));
  if (unnamed.length) changed();
}

// ---- rooms -----------------------------------------------------------------------------

// Shows a room: the latest page over HTTP, then `join` with since = its last seq, so what
// happened in between is replayed and nothing is missed or shown twice.
export async function openRoom(room) {
  if (state.current === room) return;
  state.current = room;
  const data = roomData(room);
  if (!data.loaded && !data.loading) {
    // Live entries arriving while the page loads are kept (data.loading) and merged by id.
    data.loading = true;
    const { messages } = await api("GET", `/api/v1/rooms/${room}/messages?limit=${PAGE}`);
    for (const message of messages) putMessage(data, message);
    data.atStart = messages.length < PAGE;
    data.loaded = true;
    data.loading = false;
    // Joined already (listed rooms are joined from their head at start): the page above is
    // newer than the join, so nothing is missing. Else replay whatever followed the page.
    if (!connection.rooms.has(room)) connection.join(room, messages.length ? messages[messages.length - 1].seq : 0);
    loadSide(room);
  }
  markRead(room);
  markRoomNotificationsRead(room).catch(() => {});
  changed();
}

export async function loadSide(room) {
  const data = roomData(room);
  const info = roomInfo(room);
  if (info && (info.kind === "sector" || info.kind === "city")) {
    data.topics = (await api("GET", `/api/v1/rooms/${room}/topics?limit=20`)).topics;
    data.news = (await api("GET", `/api/v1/rooms/${room}/news?limit=20`)).news;
  }
  if (room.startsWith("t-") || room.startsWith("n-")) {
    data.meta = { topic: (await api("GET", `/api/v1/topics/${room}`)).topic };
  }
  if (info && info.kind === "direct") {
    const [{ members, added_by: addedBy }, { reads }] = await Promise.all([
      api("GET", `/api/v1/rooms/${room}/members`), api("GET", `/api/v1/rooms/${room}/reads`)]);
    state.directMembers.set(room, members);
    // addedBy: who brought this member in ({id, name}), null when they opened it themselves.
    data.meta = { ...(data.meta || {}), members, addedBy, status: data.meta?.status || info.status };
    data.reads = new Map(reads.map((r) => [r.user.id, { name: r.user.name, seq: r.seq }]));
  }
  changed();
}

// Resolve or pin a topic or news post; the answer (and the live `topic` entry) shows it.
export async function updateTopic(id, change) {
  const { topic } = await api("PATCH", `/api/v1/topics/${id}`, change);
  const data = state.data.get(id);
  if (data?.meta) data.meta = { ...data.meta, topic: { ...data.meta.topic, ...topic } };
  changed();
}

// Leave a direct conversation: it disappears from the sidebar here and (through the `left`
// frame with reason "removed") on the member's other connections.
export async function leaveDirect(room) {
  await api("DELETE", `/api/v1/rooms/${room}/members/${state.user.id}`);
  forgetRoom(room);
}

// Decline a conversation someone else brought this member into: out for good (nobody can add
// them back), and with `block` whoever added them is blocked as well.
export async function declineDirect(room, block) {
  const by = state.data.get(room)?.meta?.addedBy;
  await api("POST", `/api/v1/rooms/${room}/decline`, { block });
  if (block && by) state.blocked.add(by.id);
  forgetRoom(room);
}

// Block or unblock a member: they can no longer open a conversation with this member or add
// them to one, and nothing they write notifies them. They are not told.
export async function setBlocked(userId, blocked) {
  await api(blocked ? "PUT" : "DELETE", `/api/v1/me/blocks/${userId}`);
  if (blocked) state.blocked.add(userId);
  else state.blocked.delete(userId);
  changed();
}

function forgetRoom(room) {
  state.rooms = state.rooms.filter((r) => r.id !== room);
  state.data.delete(room);
  connection.rooms.delete(room);
  if (state.current === room) location.hash = "#/directory";
  changed();
}

export async function loadOlder(room) {
  const data = roomData(room);
  if (data.atStart || data.loadingOlder || !data.messages.length) return false;
  data.loadingOlder = true;
  const first = data.messages[0].seq;
  try {
    const { messages } = await api("GET", `/api/v1/rooms/${room}/messages?before=${first}&limit=${PAGE}`);
    for (const message of messages) putMessage(data, message);
    data.atStart = messages.length < PAGE;
    return messages.length > 0;
  } catch {
    return false; // offline or refused: the next scroll asks again
  } finally {
    data.loadingOlder = false;
    changed();
  }
}

// Read positions go out at most once a second per room (the latest wins): a busy room must
// not spend the connection's frame rate (50/s) on read markers.
const readTimers = new Map();
const readSeqs = new Map();
function readUpTo(room, seq) {
  readSeqs.set(room, Math.max(seq, readSeqs.get(room) ?? 0));
  if (readTimers.has(room)) return;
  readTimers.set(room, setTimeout(() => {
    readTimers.delete(room);
    connection.send({ type: "read", room, seq: readSeqs.get(room) });
  }, 1000));
}

function markRead(room) {
  const data = roomData(room);
  const last = data.messages.length ? data.messages[data.messages.length - 1].seq : 0;
  const head = Math.max(last, connection.rooms.get(room) ?? 0);
  if (head > 0) readUpTo(room, head);
  const info = roomInfo(room);
  if (info) info.unread = 0;
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

// ---- actions ---------------------------------------------------------------------------

// `picked`: ids of members chosen in the composer's list whose "@Name" is still in the body;
// the "@Name" of a member online in the room mentions them too.
export function sendMessage(room, body, picked = []) {
  const ids = new Set(picked);
  for (const [id, name] of roomData(room).presence) {
    if (body.includes(`@${name}`)) ids.add(id);
  }
  const mentions = [...ids].slice(0, 50); // the protocol's limit
  const cid = connection.request({ type: "send", room, body, ...(mentions.length ? { mentions } : {}) });
  state.sending.set(cid, { room, body });
  changed();
}

export function editMessage(room, id, body) {
  connection.request({ type: "edit", room, id, body });
}

export function deleteMessage(room, id) {
  connection.request({ type: "delete", room, id });
}

export function toggleReaction(room, message, emoji) {
  const mine = (message.reactions[emoji] || []).includes(state.user.id);
  connection.request({ type: "react", room, id: message.id, emoji, add: !mine });
}

let lastTyping = 0;
export function typing(room) {
  const now = Date.now();
  if (now - lastTyping < 2000) return;
  lastTyping = now;
  connection.send({ type: "typing", room });
}

// ---- notifications ---------------------------------------------------------------------
// The unread count is the server's: asked for at sign-in and after each connection's first
// pong (from then on every notification reaches us live: docs/protocol.md, "Read state and
// notifications"), then kept by the frames, which arrive in order: `notification` adds one,
// `notifications_read` brings the count. A count answered while frames came is asked again.

let counting = false;
let countAgain = false;
let countOnPong = false;
let notificationFrames = 0;
const seenNotifications = new Set(); // a frame counts once, even if it comes twice

export async function refreshNotificationCount() {
  if (!state.user) return;
  if (counting) {
    countAgain = true;
    return;
  }
  counting = true;
  try {
    do {
      countAgain = false;
      const { unread } = await api("GET", "/api/v1/notifications/count");
      if (!countAgain) state.notifications.unread = unread;
    } while (countAgain);
  } catch {
    // the next connection asks again
  } finally {
    counting = false;
    changed();
  }
}

// Into the shown list, by id (newest first); read state only ever goes one way, so a copy
// that says read wins.
export function mergeNotifications(notes) {
  const { list } = state.notifications;
  if (!list) return;
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const note of notes) {
    const known = byId.get(note.id);
    byId.set(note.id, known ? { ...note, read_at: known.read_at || note.read_at } : note);
  }
  state.notifications.list = [...byId.values()].sort((a, b) => b.id - a.id);
}

function addNotification(note) {
  if (seenNotifications.has(note.id)) return;
  seenNotifications.add(note.id);
  notificationFrames += 1;
  if (counting) countAgain = true;
  mergeNotifications([note]);
  if (note.read_at) return;
  state.notifications.unread += 1;
  // The room on screen shows (and announces) the message itself: nothing left to notify.
  if (note.room === state.current && document.visibilityState !== "hidden") {
    markNotificationsRead([note.id]).catch(() => {});
  } else {
    state.announce = t("notif.announce", { name: note.actor.name });
  }
}

function notificationsRead(ids, unread) { // ids null: all
  const notes = state.notifications;
  if (counting) countAgain = true;
  notes.readEvents += 1;
  if (unread !== undefined) notes.unread = unread;
  const marked = ids && new Set(ids);
  const now = new Date().toISOString();
  for (const note of notes.list || []) {
    if (!note.read_at && (!marked || marked.has(note.id))) note.read_at = now;
  }
}

// ids: an array, or null for all. The answer's count is taken unless a notification came
// meanwhile (it may or may not be in that count); the `notifications_read` frame follows.
export async function markNotificationsRead(ids) {
  const before = notificationFrames;
  const { unread } = await api("POST", "/api/v1/notifications/read", ids ? { ids } : { all: true });
  notificationsRead(ids, before === notificationFrames ? unread : undefined);
  if (before !== notificationFrames) refreshNotificationCount();
  changed();
}

// Opening a room marks its unread notifications read: the member is looking at them.
async function markRoomNotificationsRead(room) {
  if (!state.notifications.unread) return;
  const { notifications } = await api("GET", "/api/v1/notifications?unread=true&limit=100");
  const ids = notifications.filter((n) => n.room === room).map((n) => n.id);
  if (ids.length) await markNotificationsRead(ids);
}

// ---- frames ----------------------------------------------------------------------------

const LOGGED = new Set(["message", "edit", "delete", "reaction", "topic", "status"]);

function handleFrame(frame) {
  const { room } = frame;
  if (LOGGED.has(frame.type) && !connection.advance(room, frame.seq)) return; // seen already
  const data = room ? roomData(room) : null;
  switch (frame.type) {
    case "message": {
      const { type, ...message } = frame;
      if (data.loaded || data.loading) putMessage(data, message);
      if (room === state.current && document.visibilityState !== "hidden") {
        readUpTo(room, frame.seq);
        if (message.author.id !== state.user.id) {
          state.announce = t("room.new_message", { name: message.author.name, body: message.body });
        }
      } else if (message.author.id !== state.user.id) {
        const info = roomInfo(room);
        if (info) info.unread = (info.unread || 0) + 1;
      }
      break;
    }
    case "edit": {
      const target = data.byId.get(frame.target);
      if (target) Object.assign(target, { body: frame.body, html: frame.html, edited_at: frame.sent_at });
      break;
    }
    case "delete": {
      const target = data.byId.get(frame.target);
      if (target) Object.assign(target, { body: "", html: "", deleted: true, reactions: {} });
      break;
    }
    case "reaction": {
      const target = data.byId.get(frame.target);
      if (target) {
        const users = new Set(target.reactions[frame.emoji] || []);
        if (frame.added) users.add(frame.author.id);
        else users.delete(frame.author.id);
        target.reactions = { ...target.reactions, [frame.emoji]: [...users] };
        if (!users.size) delete target.reactions[frame.emoji];
      }
      break;
    }
    case "topic": {
      loadSide(room);
      const thread = state.data.get(frame.topic?.id);
      if (thread?.meta?.topic) thread.meta = { ...thread.meta, topic: { ...thread.meta.topic, ...frame.topic } };
      break;
    }
    case "read": {
      // "Read by" in a direct room; applied as a maximum (it may arrive twice).
      if (data.reads && frame.user) {
        const known = data.reads.get(frame.user.id);
        if (!known || known.seq < frame.seq) data.reads.set(frame.user.id, { name: frame.user.name, seq: frame.seq });
      }
      break;
    }
    case "left":
      if (frame.reason === "removed") forgetRoom(room);
      break;
    case "membership":
      // Brought into a conversation: list the rooms again (it joins it). Else a member came,
      // went, declined or came back: the header's member list follows.
      if (frame.user.id === state.user.id && ["added", "rejoined"].includes(frame.change)) refreshRooms();
      else if (data.meta?.members) loadSide(room);
      break;
    case "status":
      if (data.meta) data.meta.status = frame.status;
      break;
    case "ack":
      state.sending.delete(frame.cid);
      break;
    case "error":
      // Retryable errors keep the send pending (socket.js resends it); others end it here.
      if (frame.cid && !connection.pending.has(frame.cid)) {
        const failed = state.sending.get(frame.cid);
        state.sending.delete(frame.cid);
        state.notice = { room: failed?.room ?? state.current, text: t("error.generic", { message: errorMessage(frame) }) };
      }
      break;
    case "resync": {
      const since = connection.rooms.get(room) ?? 0;
      connection.rooms.set(room, frame.seq); // live entries continue after the head
      catchUp(room, since);
      break;
    }
    case "presence": {
      if (frame.full) data.presence.clear();
      for (const user of frame.online) data.presence.set(user.id, user.name);
      for (const id of frame.offline || []) data.presence.delete(id);
      break;
    }
    case "typing": {
      const until = Date.now() + 5000;
      for (const user of frame.users) {
        if (user.id !== state.user.id) data.typing.set(user.id, { name: user.name, until });
      }
      setTimeout(changed, 5100);
      break;
    }
    case "notification":
      if (!roomInfo(frame.notification.room)) refreshRooms();
      addNotification(frame.notification);
      break;
    case "notifications_read":
      notificationsRead(frame.all ? null : frame.ids || [], frame.unread);
      break;
    case "pong":
      if (countOnPong) {
        countOnPong = false;
        refreshNotificationCount();
      }
      break;
    default:
      break;
  }
}

// A `resync`: the gap was too large to replay; fetch it over HTTP, page by page.
async function catchUp(room, since) {
  const data = roomData(room);
  let after = since;
  for (;;) {
    const { messages } = await api("GET", `/api/v1/rooms/${room}/messages?after=${after}&limit=200`);
    for (const message of messages) putMessage(data, message);
    if (messages.length < 200) break;
    after = messages[messages.length - 1].seq;
  }
  changed();
}
