// Webinars (docs/protocol.md, "Webinars"): the listings (upcoming, live, past; and per sector or
// city room), one webinar's page (its details; its audience chat is its room's log, opened like
// any room by subjects/current.js), scheduling and editing, the hosts' controls (start, end,
// cancel, chat mode), registration, and what the `webinar` entries and the chat's refusals
// (`slow_mode`, `chat_closed`) change.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { connection } from "./connection.js";
import { openRoom } from "./current.js";
import { t } from "./language.js";
import { putEvent } from "./messages.js";

export const WHEN = ["upcoming", "live", "past"];
const PAGE = 50;

export const isWebinarRoom = (room) => typeof room === "string" && room.startsWith("webinar-");

// The title in the reader's language, else the other one.
export function webinarTitle(webinar) {
  const title = webinar?.title || {};
  const other = state.lang === "zh" ? "en" : "zh";
  return title[state.lang] || title[other] || "";
}

// Hosts, moderators and admins run a webinar (its `role` says which the viewer is).
export const mayRun = (webinar) => webinar?.role === "host" || webinar?.role === "moderator";
// Whether the chat takes this member's messages now: nobody's once it ended or was cancelled;
// with the chat off, only the hosts'.
export const mayPost = (webinar) => !webinar
  || (webinar.state !== "ended" && webinar.state !== "cancelled" && (webinar.chat.mode !== "off" || mayRun(webinar)));
export const mayPlan = () => state.user?.role === "moderator" || state.user?.role === "admin";

// The calendar file in the reader's language (the page it links is /#/webinar/<id>).
export const calendarLink = (id) => `/api/v1/webinars/${id}/calendar.ics?lang=${state.lang}`;

// ---- the listings ----------------------------------------------------------------------

function remember(webinar) {
  const known = state.webinars.byId.get(webinar.id);
  // A listing's copy has no description; an entry's has no role, registered or description.
  state.webinars.byId.set(webinar.id, { ...(known || {}), ...webinar });
}

// One page of upcoming, live or past webinars; `more`: the page after the one shown.
export async function loadWebinars(when, more = false) {
  const shown = state.webinars.lists[when];
  const query = new URLSearchParams({ when, limit: String(PAGE) });
  if (more && shown?.next) query.set("after", shown.next);
  const { webinars, next } = await api("GET", `/api/v1/webinars?${query}`);
  for (const webinar of webinars) remember(webinar);
  const ids = webinars.map((w) => w.id);
  state.webinars.lists[when] = { ids: more && shown ? [...shown.ids, ...ids] : ids, next };
  changed();
}

// The upcoming and live webinars listed in a sector or city room (its side panel).
export async function loadRoomWebinars(room) {
  const [upcoming, live] = await Promise.all(["upcoming", "live"].map((when) =>
    api("GET", `/api/v1/rooms/${room}/webinars?when=${when}&limit=10`)));
  const webinars = [...live.webinars, ...upcoming.webinars];
  for (const webinar of webinars) remember(webinar);
  state.webinars.byRoom.set(room, webinars.map((w) => w.id));
  changed();
}

export const webinarsIn = (room) => (state.webinars.byRoom.get(room) || []).map((id) => state.webinars.byId.get(id)).filter(Boolean);
export const listed = (when) => {
  const list = state.webinars.lists[when];
  return list ? { items: list.ids.map((id) => state.webinars.byId.get(id)).filter(Boolean), next: list.next } : null;
};
export const webinarOf = (id) => state.webinars.byId.get(id) || null;

// Listings shown now follow a change made anywhere (an entry, a notification): asked again at
// most once a second.
let refreshTimer = null;
function refreshShown() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    for (const when of WHEN) if (state.webinars.lists[when]) loadWebinars(when).catch(() => {});
    for (const room of state.webinars.byRoom.keys()) loadRoomWebinars(room).catch(() => {});
  }, 1000);
}

// ---- one webinar -------------------------------------------------------------------------

export async function loadWebinar(id) {
  const { webinar } = await api("GET", `/api/v1/webinars/${id}`);
  remember(webinar);
  state.webinars.missing.delete(id);
  changed();
  return webinar;
}

// The page opens: its details, then its room like any room (history, join, read position).
export async function openWebinar(id) {
  try {
    await loadWebinar(id);
  } catch (err) {
    if (err.status === 404 || err.status === 400) {
      state.webinars.missing.add(id);
      changed();
      return;
    }
    throw err;
  }
  await openRoom(id);
}

async function change(id, method, path, body) {
  const { webinar } = await api(method, `/api/v1/webinars/${id}${path}`, body);
  remember(webinar);
  refreshShown();
  changed();
  return webinar;
}

// {title: {en, zh}, description, starts_at, ends_at, time_zone, rooms, hosts, panelists,
// premoderated, guests_allowed}; resolves to the webinar.
export async function scheduleWebinar(fields) {
  const { webinar } = await api("POST", "/api/v1/webinars", fields);
  remember(webinar);
  refreshShown();
  return webinar;
}

export const editWebinar = (id, fields) => change(id, "PATCH", "", fields);
export const startWebinar = (id) => change(id, "POST", "/start");
export const endWebinar = (id) => change(id, "POST", "/end");
export const cancelWebinar = (id) => change(id, "POST", "/cancel");
export const setChatMode = (id, mode, slowS) => change(id, "PUT", "/chat", mode === "slow" ? { mode, slow_s: slowS } : { mode });
export const setRegistered = (id, on) => change(id, on ? "PUT" : "DELETE", "/registration");

// ---- frames ----------------------------------------------------------------------------

// A webinar changed: in its own room (the page follows: state, chat mode, details) or in a room
// listing it (its side panel follows). Either way a line in that room's timeline says what.
export function onWebinar(frame) {
  const summary = frame.webinar || {};
  putEvent(frame.room, frame); // a line in that room's timeline (views/timeline.js)
  const known = state.webinars.byId.get(summary.id);
  if (known && summary.version >= (known.version ?? 0)) {
    state.webinars.byId.set(summary.id, { ...known, ...summary });
    // An edit may have changed the description, which entries leave out.
    if (frame.change === "edited" && known.html !== undefined) loadWebinar(summary.id).catch(() => {});
  }
  if (frame.change !== "chat") refreshShown();
}

export function onNotification(frame) {
  if (String(frame.notification?.kind).startsWith("webinar_")) refreshShown();
}

// Slow mode: the send stays pending (socket.js sends it again after `retry_after`); the room
// says why it waits and how long. A refusal (chat_closed) is shown by subjects/outbox.js.
export function onError(frame) {
  if (frame.code !== "slow_mode" || !frame.cid) return;
  const pending = state.sending.get(frame.cid);
  if (!pending) return;
  const slow = state.webinars.byId.get(pending.room)?.chat?.slow_s;
  state.notice = {
    room: pending.room, info: true, cid: frame.cid,
    text: t("webinar.slow_wait", { n: frame.retry_after ?? slow ?? "", slow: slow ?? "" }),
  };
}

// The message that waited is sent: the note about waiting goes.
export function onAck(frame) {
  if (state.notice?.cid && state.notice.cid === frame.cid) state.notice = null;
}

// After a reconnect the page's webinar may have changed meanwhile (the room's replay brings
// its entries; this brings the parts the entries leave out).
export function onConnectionOpen() {
  if (isWebinarRoom(state.current) && connection.rooms.has(state.current)) loadWebinar(state.current).catch(() => {});
}
