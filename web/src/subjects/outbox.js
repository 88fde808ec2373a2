// What this member sends over the socket (messages, edits, deletions, reactions) and how it
// ends: a send shows greyed until acked; a refusal shows as the room's notice.
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { errorMessage, t } from "./language.js";
import { roomData } from "./messages.js";

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

export function dismissNotice() {
  state.notice = null;
  changed();
}

// ---- frames ----------------------------------------------------------------------------

export function onAck(frame) {
  state.sending.delete(frame.cid);
}

export function onError(frame) {
  // An error with `retry: true` keeps the send pending (socket.js resends it); others end it here.
  if (frame.cid && !connection.pending.has(frame.cid)) {
    const failed = state.sending.get(frame.cid);
    state.sending.delete(frame.cid);
    state.notice = { room: failed?.room ?? state.current, text: t("error.generic", { message: errorMessage(frame) }) };
  }
}
