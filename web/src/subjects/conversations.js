// Direct conversations: their members (and who added this member), who read how far, their
// status; starting one, adding someone, leaving, declining.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { blockedMeanwhile } from "./blocks.js";
import { t } from "./language.js";
import { putEvent, roomData } from "./messages.js";
import { forgetRoom, knowMembers, refreshRooms, roomInfo } from "./rooms.js";

// The header of a direct conversation: members, who added this member, read positions.
export async function loadConversation(room) {
  const info = roomInfo(room);
  if (info && info.kind === "direct") {
    const data = roomData(room);
    const [{ members, added_by: addedBy }, { reads }] = await Promise.all([
      api("GET", `/api/v1/rooms/${room}/members`), api("GET", `/api/v1/rooms/${room}/reads`)]);
    knowMembers(room, members);
    // addedBy: who brought this member in ({id, name}), null when they opened it themselves.
    data.meta = { ...(data.meta || {}), members, addedBy, status: data.meta?.status || info.status };
    data.reads = new Map(reads.map((r) => [r.user.id, { name: r.user.name, seq: r.seq }]));
  }
  changed();
}

// Opens (or finds) the conversation with one member; resolves to its room id once listed.
export async function startDirect(userId, name) {
  const { room } = await api("POST", "/api/v1/direct", { members: [userId] });
  // They left it for good: the server answers with the conversation without them (nobody
  // else can start a new one with them); say so there rather than leave it unexplained.
  if (!room.members.some((m) => m.id === userId)) {
    state.notice = { room: room.id, text: t("direct.not_member", { name }), info: true };
  }
  await refreshRooms();
  return room.id;
}

// A new conversation with these members (and this member): none of the earlier messages of
// the one it was started from go with it. Resolves to its room id once listed.
export async function startGroup(userIds) {
  const { room } = await api("POST", "/api/v1/direct", { members: userIds });
  await refreshRooms();
  return room.id;
}

// The header follows through loadConversation (and the `membership` frame that comes too).
export async function addMember(room, userId) {
  await api("POST", `/api/v1/rooms/${room}/members`, { user_id: userId });
}

// The `status` frame that follows shows it.
export async function setStatus(room, status) {
  await api("PUT", `/api/v1/rooms/${room}/status`, { status });
}

// Leave: it disappears from the sidebar here and (through the `left` frame with reason
// "removed") on the member's other connections.
export async function leaveDirect(room) {
  await api("DELETE", `/api/v1/rooms/${room}/members/${state.user.id}`);
  forgetRoom(room);
}

// Decline a conversation someone else brought this member into: out for good (nobody can add
// them back), and with `block` whoever added them is blocked as well.
export async function declineDirect(room, block) {
  const by = state.data.get(room)?.meta?.addedBy;
  await api("POST", `/api/v1/rooms/${room}/decline`, { block });
  if (block && by) blockedMeanwhile(by.id);
  forgetRoom(room);
}

// ---- frames ----------------------------------------------------------------------------

// "Read by" in a direct room; applied as a maximum (it may arrive twice).
export function onRead(frame) {
  const { reads } = roomData(frame.room);
  if (reads && frame.user) {
    const known = reads.get(frame.user.id);
    if (!known || known.seq < frame.seq) reads.set(frame.user.id, { name: frame.user.name, seq: frame.seq });
  }
}

export function onStatus(frame) {
  const data = roomData(frame.room);
  if (data.meta) data.meta.status = frame.status;
  putEvent(frame.room, frame); // a line in the timeline
}

// A line in the timeline. Brought into a conversation: list the rooms again (it joins it).
// Else a member came, went, declined or came back: the header's member list follows.
export function onMembership(frame) {
  if (frame.seq !== undefined) putEvent(frame.room, frame); // (without one: sent to someone not in the room yet)
  // (When they go themselves, the leave or the `left` frame takes the room away.)
  if (frame.user.id === state.user.id) {
    if (["added", "rejoined"].includes(frame.change)) refreshRooms();
  } else if (roomData(frame.room).meta?.members) loadConversation(frame.room);
}
