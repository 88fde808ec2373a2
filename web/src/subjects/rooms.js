// The rooms this member is in (the sidebar): the list, each room's title and unread count,
// and the members of direct conversations, which name them. Every listed room is joined from
// its head, so unread counts stay live everywhere; a room's history is fetched only when it
// is opened (subjects/current.js).
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { dropRoom } from "./messages.js";

export function roomInfo(room) {
  return state.rooms.find((r) => r.id === room);
}

// What a sector or city room is for, in the reader's language ("" for others).
export function roomDescription(room) {
  const info = typeof room === "string" ? roomInfo(room) : room;
  const about = info?.description;
  return about && typeof about === "object" ? about[state.lang] || about.en || "" : "";
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

export async function refreshRooms() {
  if (!state.user || state.user.guest) return; // a webinar's guest has no room list
  state.rooms = (await api("GET", "/api/v1/rooms")).rooms;
  for (const room of state.rooms) {
    if (room.id === state.current) room.unread = 0;
  }
  changed();
  for (const room of state.rooms) {
    if (!connection.rooms.has(room.id)) connection.join(room.id, room.seq || 0);
  }
  const unnamed = state.rooms.filter((r) => r.kind === "direct" && !state.directMembers.has(r.id));
  await Promise.all(unnamed.map(async (r) => {
    state.directMembers.set(r.id, (await api("GET", `/api/v1/rooms/${r.id}/members`)).members);
  }));
  if (unnamed.length) changed();
}

// A direct conversation's members as last fetched (subjects/conversations.js): its title.
export function knowMembers(room, members) {
  state.directMembers.set(room, members);
}

export function countUnread(room) {
  const info = roomInfo(room);
  if (info) info.unread = (info.unread || 0) + 1;
}

export function clearUnread(room) {
  const info = roomInfo(room);
  if (info) info.unread = 0;
}

// Out of the list, its messages dropped and no longer joined; shown now, the directory instead.
export function forgetRoom(room) {
  state.rooms = state.rooms.filter((r) => r.id !== room);
  dropRoom(room);
  connection.rooms.delete(room);
  if (state.current === room) location.hash = "#/directory";
  changed();
}

// ---- attention: muting and marking read ------------------------------------------------

// How much a room notifies this member: "all", "mentions" or "none" (muted). Kept on the
// server (PUT /api/v1/rooms/{room}/settings), so it follows them to every device.
export function notifyLevel(room) {
  const info = roomInfo(room);
  return info?.notify || (info?.kind === "direct" ? "all" : "mentions");
}

export const isMuted = (room) => notifyLevel(room) === "none";

export async function setNotifyLevel(room, notify) {
  const answer = await api("PUT", `/api/v1/rooms/${room}/settings`, { notify });
  const info = roomInfo(room);
  if (info) info.notify = answer.notify;
  changed();
}

// Unread messages in rooms that are not muted: the tab title's count.
export function unreadTotal() {
  return state.rooms.reduce((sum, r) => sum + (isMuted(r.id) ? 0 : r.unread || 0), 0);
}

// Read up to the room's head (what this client has seen of it), without opening it.
export async function markRoomRead(room) {
  const seq = Math.max(roomInfo(room)?.seq || 0, connection.rooms.get(room) || 0);
  if (seq > 0) await api("PUT", `/api/v1/rooms/${room}/read`, { seq });
  clearUnread(room);
  changed();
}

export async function markAllRoomsRead() {
  await api("POST", "/api/v1/rooms/read-all");
  for (const room of state.rooms) room.unread = 0;
  changed();
}

// ---- frames ----------------------------------------------------------------------------

// This member changed a room's notify level (on this device or another).
export function onRoomSettings(frame) {
  const info = roomInfo(frame.room);
  if (info) {
    info.notify = frame.notify;
    changed();
  }
}

// This member read up to the head on another device (or "mark all read"): no unread here either.
export function onRead(frame) {
  if (frame.user.id !== state.user?.id) return;
  const info = roomInfo(frame.room);
  if (info && frame.seq >= (connection.rooms.get(frame.room) || 0)) {
    info.unread = 0;
    changed();
  }
}

let opened = 0; // connections opened so far

// The first connection joins from the room list sign-in just fetched (joins replay whatever
// came since); after a reconnect, rooms may have come or gone meanwhile.
export function onConnectionOpen() {
  if (opened++ > 0) refreshRooms();
}

// Removed (or left, declined) on another connection: it goes here too.
export function onLeft(frame) {
  if (frame.reason === "removed") forgetRoom(frame.room);
}

// A notification from a room not listed yet (just brought into it): list the rooms again.
// (A webinar's room is never listed: webinars are listed by subjects/webinars.js.)
export function onNotification(frame) {
  if (!roomInfo(frame.notification.room) && !frame.notification.room.startsWith("webinar-")) refreshRooms();
}
