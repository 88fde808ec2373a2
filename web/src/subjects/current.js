// The room on screen: opening it (its latest page, side panels, read position), what a new
// message there does (marks it read, announces it) and what it does elsewhere (unread count).
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { loadConversation } from "./conversations.js";
import { t } from "./language.js";
import { loadLatest, roomData } from "./messages.js";
import { markRoomNotificationsRead, messageArrived } from "./notifications.js";
import { clearUnread, countUnread } from "./rooms.js";
import { loadTopics } from "./topics.js";

const shown = (room) => room === state.current && document.visibilityState !== "hidden";

export async function openRoom(room) {
  if (state.current === room) return;
  state.current = room;
  const data = roomData(room);
  if (!data.loaded && !data.loading) {
    await loadLatest(room);
    loadSide(room);
  }
  markRead(room);
  markRoomNotificationsRead(room).catch(() => {});
  changed();
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

// ---- frames ----------------------------------------------------------------------------

export function onMessage(frame) {
  const mine = frame.author.id === state.user.id;
  if (shown(frame.room)) {
    readUpTo(frame.room, frame.seq);
    if (!mine) state.announce = t("room.new_message", { name: frame.author.name, body: frame.body });
  } else if (!mine) {
    countUnread(frame.room);
    messageArrived(frame);
  }
}
