// What keeps a member's attention where they want it: a room's notify level (mute) and "mark
// read" in its header, "mark all read" in the sidebar, the desktop-notifications switch, a
// message link that opens its room scrolled to it and highlighted, and "copy link" on a message.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { desktopState, disableDesktop, enableDesktop, messageLink } from "../subjects/notifications.js";
import { markAllRoomsRead, markRoomRead, notifyLevel, roomInfo, setNotifyLevel } from "../subjects/rooms.js";
import { state } from "../state.js";

const LEVELS = ["all", "mentions", "none"];

function useAction() {
  const [error, setError] = useState("");
  const run = (action) => action().then(() => setError(""),
    (err) => setError(t("error.generic", { message: errorMessage(err) })));
  return [error, run];
}

// Beside a room in the sidebar while it has unread messages: mark them read without opening it.
export function MarkRoomRead({ room, title }) {
  const [error, run] = useAction();
  return html`<button type="button" class="mark-read" aria-label=${t("attention.mark_room_read", { room: title })}
    title=${error || undefined} onClick=${() => run(() => markRoomRead(room))}><span aria-hidden="true">✓</span></button>`;
}

// In a listed room's header: how much it notifies this member.
export function RoomAttention({ room }) {
  const [error, run] = useAction();
  const info = roomInfo(room);
  if (!info) return null; // a topic or news thread: not in the room list
  const id = `notify-${room}`;
  return html`<div class="attention">
    <label for=${id}>${t("attention.notify")}</label>
    <select id=${id} value=${notifyLevel(room)} onChange=${(e) => run(() => setNotifyLevel(room, e.target.value))}>
      ${LEVELS.map((level) => html`<option value=${level}>${t(`attention.level.${level}`)}</option>`)}
    </select>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

// At the top of the sidebar, while any room has unread messages.
export function MarkAllRead() {
  const [error, run] = useAction();
  if (!state.rooms.some((r) => r.unread > 0)) return null;
  return html`<div class="mark-all">
    <button type="button" onClick=${() => run(markAllRoomsRead)}>${t("attention.mark_all_read")}</button>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

// In the notifications view: desktop notifications are asked for here, on a press, never on load.
export function DesktopSwitch() {
  const [, setVersion] = useState(0);
  const current = desktopState();
  if (current === "unsupported") return null;
  if (current === "denied") return html`<p class="muted desktop-state">${t("attention.desktop_denied")}</p>`;
  const toggle = async () => {
    await (current === "on" ? disableDesktop() : enableDesktop());
    setVersion((v) => v + 1); // the browser's permission is not in state: look again
  };
  return html`<button type="button" class="desktop-switch" aria-pressed=${current === "on" ? "true" : "false"}
    onClick=${toggle}>${t("attention.desktop")}</button>`;
}

// Opened through a message link (`#/room/ROOM/message/ID`): scroll to the message and
// highlight it briefly, once it is drawn. A message outside the loaded pages opens the room only.
export function useMessageFocus(room, message, ready) {
  const done = useRef(null);
  useEffect(() => {
    if (!message || !ready || done.current === `${room}/${message}`) return undefined;
    const row = document.querySelector(`.msg[data-id="${CSS.escape(message)}"]`);
    if (!row) return undefined;
    done.current = `${room}/${message}`;
    row.scrollIntoView({ block: "center" });
    row.classList.add("flash");
    const timer = setTimeout(() => row.classList.remove("flash"), 4000);
    return () => clearTimeout(timer);
  });
}

// A message's "copy link" tool: the address that opens its room at it.
export function CopyLink({ room, message }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    const url = `${location.origin}${location.pathname}${messageLink(room, message.id)}`;
    try {
      await navigator.clipboard.writeText(url);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      window.prompt(t("attention.copy_prompt"), url); // no clipboard permission: show it to copy by hand
    }
  }
  return html`<button type="button" class="tool copy-link" onClick=${copy}>
    ${copied ? t("attention.copied") : t("attention.copy_link")}</button>`;
}
