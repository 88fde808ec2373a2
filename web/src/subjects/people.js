// The profile card: one member's public profile (GET /api/v1/members/{id}), opened from their
// name anywhere and shown over the current view until closed.
import { api } from "../api.js";
import { changed, state } from "../state.js";

export async function openProfileCard(userId) {
  state.card = { id: userId, member: null, error: null };
  changed();
  let found = null;
  let error = null;
  try {
    found = (await api("GET", `/api/v1/members/${userId}`)).member;
  } catch (err) {
    error = err;
  }
  if (state.card?.id !== userId) return; // closed, or another card opened meanwhile
  state.card = { id: userId, member: found, error };
  changed();
}

export function closeProfileCard() {
  if (!state.card) return;
  state.card = null;
  changed();
}
