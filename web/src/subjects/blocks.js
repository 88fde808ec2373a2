// The members this member blocked: they can no longer open a conversation with this member or
// add them to one, and nothing they write notifies them; their messages in shared rooms show
// collapsed (views/message.js). They are not told. state.blocked is replaced, never changed in
// place, so the message list's rows see the change.
import { api } from "../api.js";
import { changed, state } from "../state.js";

export async function loadBlocks() {
  const { blocked } = await api("GET", "/api/v1/me/blocks");
  state.blocked = new Set(blocked.map((b) => b.id));
}

export async function setBlocked(userId, blocked) {
  await api(blocked ? "PUT" : "DELETE", `/api/v1/me/blocks/${userId}`);
  const next = new Set(state.blocked);
  if (blocked) next.add(userId);
  else next.delete(userId);
  state.blocked = next;
  changed();
}

// Blocked by the server along with something else (declining a conversation and blocking).
export function blockedMeanwhile(userId) {
  state.blocked = new Set([...state.blocked, userId]);
}
