// What is being written in each room's message box: one draft per room, never carried to
// another, kept in localStorage (per member) so a reload or a closed tab brings it back. A
// send clears its room's draft; a refused send puts its text back (subjects/outbox.js).
import { changed, state } from "../state.js";

const storageKey = () => `ecolink.drafts.${state.user.id}`;

export function loadDrafts() {
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(storageKey()) || "{}");
  } catch {
    saved = {}; // unreadable: start afresh
  }
  state.drafts = new Map(Object.entries(saved).filter(([, text]) => typeof text === "string" && text));
}

function save() {
  try {
    localStorage.setItem(storageKey(), JSON.stringify(Object.fromEntries(state.drafts)));
  } catch {
    // storage full or disabled: the drafts still live for this page
  }
}

export function draftFor(room) {
  return state.drafts.get(room) ?? "";
}

export function setDraft(room, text) {
  if (text) state.drafts.set(room, text);
  else state.drafts.delete(room);
  save();
  changed();
}

// A refused send's text comes back into its room's box, before whatever was typed since.
export function restoreDraft(room, text) {
  const now = draftFor(room);
  setDraft(room, now.trim() ? `${text}\n${now}` : text);
}

// Logged out: nothing of what was being written stays on this computer.
export function forgetDrafts() {
  if (state.user) localStorage.removeItem(storageKey());
  state.drafts = new Map();
}

// A quote (a reply) goes at the end of the room's draft, on a line of its own.
export function quoteInDraft(room, quote) {
  const now = draftFor(room);
  setDraft(room, now && !now.endsWith("\n") ? `${now}\n\n${quote}` : `${now}${quote}`);
}
