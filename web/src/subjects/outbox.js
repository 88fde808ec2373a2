// What this member sends over the socket (messages, edits, deletions, reactions) and how it
// ends: a send shows greyed until acked; a refusal shows as the room's notice.
// Every send without its ack (room, cid, body, mentions) is kept in localStorage (per member)
// until the ack or a final refusal, so a reload or a closed tab loses nothing: the next load
// sends each again under its original cid (the server acks a send it already stored instead of
// storing it twice) and shows it greyed meanwhile. A refusal puts its text back in its room's
// box (subjects/drafts.js) and says why.
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { errorMessage, t } from "./language.js";
import { restoreDraft } from "./drafts.js";
import { roomData } from "./messages.js";

const storageKey = () => `ecolink.outbox.${state.user.id}`;

// The stored sends, read afresh each time: another tab of the same member keeps its own there.
function stored() {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey()) || "[]");
    return Array.isArray(saved) ? saved.filter((s) => s && typeof s.cid === "string" && typeof s.room === "string"
      && typeof s.body === "string") : [];
  } catch {
    return []; // unreadable: nothing to resend
  }
}

function store(sends) {
  try {
    if (sends.length) localStorage.setItem(storageKey(), JSON.stringify(sends));
    else localStorage.removeItem(storageKey());
  } catch {
    // storage full or disabled: the send still lives for this page (socket.js resends it)
  }
}

function keep(send) {
  store([...stored().filter((s) => s.cid !== send.cid), send]);
}

function settled(cid) {
  const sends = stored();
  if (sends.some((s) => s.cid === cid)) store(sends.filter((s) => s.cid !== cid));
}

const newCid = () => `c-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

function submit({ room, cid, body, mentions, attachments = [] }) {
  state.sending.set(cid, { room, body, attachments });
  connection.request({ type: "send", room, body, cid, ...(mentions.length ? { mentions } : {}),
    ...(attachments.length ? { attachments: attachments.map((a) => a.id) } : {}) });
}

// `picked`: ids of members chosen in the composer's list whose "@Name" is still in the body;
// the "@Name" of a member online in the room mentions them too. `attachments`: the uploaded
// files' wire dicts (views/attachments.js), sent by id; the cid is fixed here, before the
// frame leaves, so a resend after a reload attaches the same files once.
export function sendMessage(room, body, picked = [], attachments = []) {
  const ids = new Set(picked);
  // A typed "@Name" mentions the one member online here with that name; a name that several
  // online members share, or that a pick already settled, never mentions the others.
  const online = [...roomData(room).presence];
  const pickedNames = new Set(online.filter(([id]) => ids.has(id)).map(([, name]) => name));
  const holders = new Map();
  for (const [, name] of online) holders.set(name, (holders.get(name) || 0) + 1);
  for (const [id, name] of online) {
    if (holders.get(name) === 1 && !pickedNames.has(name) && body.includes(`@${name}`)) ids.add(id);
  }
  const send = { room, cid: newCid(), body, mentions: [...ids].slice(0, 50), // the protocol's limit
                 attachments: attachments.map(({ id, name, type, size, kind }) => ({ id, name, type, size, kind })) };
  keep(send); // before it leaves: a tab closed from now on still has it
  submit(send);
  // A refusal shown in this room is answered by this send: it goes.
  if (state.notice?.room === room && !state.notice.info) state.notice = null;
  changed();
}

// Signed in (a load, a reload): the sends a closed page left without an ack go again, under
// their own cids, queued until the socket is open (socket.js sends every pending frame then).
export function resendStored() {
  for (const send of stored()) {
    if (!state.sending.has(send.cid)) {
      submit({ ...send, mentions: Array.isArray(send.mentions) ? send.mentions : [],
               attachments: Array.isArray(send.attachments) ? send.attachments.filter((a) => a && typeof a.id === "string") : [] });
    }
  }
  changed();
}

// The files of a refused send in `room`, handed to its box once (then forgotten here).
export function takeReturnedFiles(room) {
  const files = state.returnedFiles.get(room);
  state.returnedFiles.delete(room);
  return files;
}

// Logged out: nothing of what was being written stays on this computer.
export function forgetOutbox() {
  if (state.user) store([]);
  state.sending = new Map();
  state.returnedFiles = new Map();
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
  settled(frame.cid);
}

export function onError(frame) {
  // An error with `retry: true` keeps the send pending (socket.js resends it); others end it here.
  if (frame.cid && !connection.pending.has(frame.cid)) {
    const failed = state.sending.get(frame.cid);
    state.sending.delete(frame.cid);
    settled(frame.cid);
    // A refused message is never lost: its text goes back into its room's box.
    if (failed) restoreDraft(failed.room, failed.body);
    // ... and its files back beside it (attached to that room already: sendable there again).
    if (failed?.attachments?.length) {
      state.returnedFiles.set(failed.room, [...(state.returnedFiles.get(failed.room) || []), ...failed.attachments]);
    }
    state.notice = { room: failed?.room ?? state.current,
                     text: t(failed ? "compose.not_sent" : "error.generic", { message: errorMessage(frame) }) };
  }
}
