// The room on screen: opening it (its latest page, side panels, read position), what a new
// message there does (marks it read, announces it) and what it does elsewhere (unread count).
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { loadConversation } from "./conversations.js";
import { t } from "./language.js";
import { loadAround, loadLatest, roomData } from "./messages.js";
import { markRoomNotificationsRead, messageArrived } from "./notifications.js";
import { clearUnread, countUnread, roomInfo } from "./rooms.js";
import { loadTopics } from "./topics.js";

const shown = (room) => room === state.current && document.visibilityState !== "hidden";

// `target`: {id, seq} of a message to show (a message link; seq null when the link has none):
// the list opens at it (views/messagelist.js, data.focus), the page around it loaded first
// when it is not loaded and its seq is known.
export async function openRoom(room, target = null) {
  if (state.current === room) {
    if (target) await showMessage(room, target);
    return;
  }
  state.current = room;
  const data = roomData(room);
  data.focus = target;
  // With unread messages the room opens at the first of them, under a "new messages" line
  // (views/messagelist.js), and they count as read only once they were on screen (seenUpTo).
  const info = roomInfo(room);
  // Never read (a new member, a room just listed): its whole history is not "new", the latest is.
  data.newAfter = info?.unread > 0 && info.last_read > 0 ? info.last_read : null;
  if (!data.loaded && !data.loading) {
    await (target?.seq ? loadAround(room, target.seq) : loadLatest(room));
    // A webinar's room has no topics, news or conversation header (its page shows its own).
    if (!data.missing && !room.startsWith("webinar-")) loadSide(room);
  } else if (target?.seq) {
    await loadAround(room, target.seq);
  }
  if (data.missing) { changed(); return; }
  if (data.newAfter === null) markRead(room);
  if (!state.user.guest) markRoomNotificationsRead(room).catch(() => {});
  changed();
}

// Another message of the room on screen (a second search result there, say).
async function showMessage(room, target) {
  roomData(room).focus = target;
  changed();
  if (target.seq) await loadAround(room, target.seq);
}

// No room on screen. Called while the shell renders another view: it changes what later
// frames do, not what is drawn, so no re-render is asked for.
export function closeRoom() {
  state.current = null;
}

// What is shown beside and above the messages: topics and news, or the conversation's header.
async function loadSide(room) {
  await loadTopics(room);
  await loadConversation(room);
}

// Read positions go out at most once a second per room (the latest wins): a busy room must
// not spend the connection's frame rate (50/s) on read markers.
const readTimers = new Map();
const readSeqs = new Map();
function readUpTo(room, seq) {
  const info = roomInfo(room);
  if (info) info.last_read = Math.max(seq, info.last_read ?? 0);
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
  clearUnread(room);
}

// The reader has had the room's messages up to this seq on screen: they are read, and the
// room's unread count keeps only those still below.
export function seenUpTo(room, seq) {
  const info = roomInfo(room);
  if (!info || !shown(room) || seq <= (info.last_read ?? 0)) return;
  const data = roomData(room);
  const from = info.last_read ?? 0;
  const seenNow = data.messages.filter((m) => m.seq > from && m.seq <= seq && !m.deleted
    && m.author?.id !== state.user.id).length;
  readUpTo(room, seq);
  const before = info.unread || 0;
  const last = data.messages.length ? data.messages[data.messages.length - 1].seq : 0;
  info.unread = seq >= Math.max(last, connection.rooms.get(room) ?? 0) ? 0 : Math.max(0, before - seenNow);
  if (info.unread !== before) changed();
}

// ---- frames ----------------------------------------------------------------------------

export function onMessage(frame) {
  roomData(frame.room).typing.delete(frame.author.id); // their message is here: no longer typing
  const mine = frame.author.id === state.user.id;
  if (shown(frame.room)) {
    // Read once the list has shown it (seenUpTo): a reader scrolled up has not seen it yet.
    if (mine && !(roomInfo(frame.room)?.unread > 0)) readUpTo(frame.room, frame.seq);
    else if (!mine) countUnread(frame.room);
    if (!mine) state.announce = t("room.new_message", { name: frame.author.name, body: frame.body });
  } else if (!mine) {
    countUnread(frame.room);
    messageArrived(frame);
  }
}
