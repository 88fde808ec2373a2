// Who is online in a room and who is typing there.
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { roomData } from "./messages.js";

const TYPING_SHOWN_MS = 5000;
const TYPING_EVERY_MS = 2000; // this member's own typing goes out at most this often

let lastTyping = 0;
export function typing(room) {
  const now = Date.now();
  if (now - lastTyping < TYPING_EVERY_MS) return;
  lastTyping = now;
  connection.send({ type: "typing", room });
}

export function onPresence(frame) {
  const { presence } = roomData(frame.room);
  if (frame.full) presence.clear();
  for (const user of frame.online) presence.set(user.id, user.name);
  for (const id of frame.offline || []) presence.delete(id);
}

export function onTyping(frame) {
  const data = roomData(frame.room);
  const until = Date.now() + TYPING_SHOWN_MS;
  for (const user of frame.users) {
    if (user.id !== state.user.id) data.typing.set(user.id, { name: user.name, until });
  }
  setTimeout(changed, TYPING_SHOWN_MS + 100); // the line goes once they stop
}
