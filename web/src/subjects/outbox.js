// What this member sends over the socket (messages, edits, deletions, reactions) and how it
// ends: a send shows greyed until acked; a refusal shows as the room's notice.
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { errorMessage, t } from "./language.js";
import { restoreDraft } from "./drafts.js";
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
  // A refusal shown in this room is answered by this send: it goes.
  if (state.notice?.room === room && !state.notice.info) state.notice = null;
  changed();
}

export function editMessage(room, id, body) {
  connection.request({ type: "edit", room, id, body });
}

// The one message being edited ({room, id}), opened by its Edit tool or by ↑ in an empty box.
export function startEditing(room, id) {
  state.editing = { room, id };
  changed();
}

export function stopEditing() {
  state.editing = null;
  changed();
}

// The member's own latest message in a room that can still be edited, or null.
export function lastOwnMessage(room) {
  const { messages } = roomData(room);
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message.author.id === state.user.id && !message.deleted) return message;
  }
  return null;
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
    // A refused message is never lost: its text goes back into its room's box.
    if (failed) restoreDraft(failed.room, failed.body);
    state.notice = { room: failed?.room ?? state.current,
                     text: t(failed ? "compose.not_sent" : "error.generic", { message: errorMessage(frame) }) };
  }
}
