// The members this member blocked: they can no longer open a conversation with this member or
// add them to one, and nothing they write notifies them. They are not told.
import { api } from "../api.js";
import { changed, state } from "../state.js";

export async function loadBlocks() {
  const { blocked } = await api("GET", "/api/v1/me/blocks");
  state.blocked = new Set(blocked.map((b) => b.id));
}

export async function setBlocked(userId, blocked) {
  await api(blocked ? "PUT" : "DELETE", `/api/v1/me/blocks/${userId}`);
  if (blocked) state.blocked.add(userId);
  else state.blocked.delete(userId);
  changed();
}

// Blocked by the server along with something else (declining a conversation and blocking).
export function blockedMeanwhile(userId) {
  state.blocked.add(userId);
}
