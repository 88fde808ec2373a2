// Notifications (docs/protocol.md, "Read state and notifications"): the unread count for the
// badge, and the list the notifications view shows while it is open.
//
// The unread count is the server's: asked for at sign-in and after each connection's first
// pong (from then on every notification reaches us live), then kept by the frames, which
// arrive in order: `notification` adds one, `notifications_read` brings the count. A count
// answered while frames came is asked again.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { t } from "./language.js";
import { notifyLevel, roomInfo, roomTitle } from "./rooms.js";

const PAGE = 30;

let counting = false;
let countAgain = false;
let countOnPong = false;
let notificationFrames = 0;
const seenNotifications = new Set(); // a frame counts once, even if it comes twice

async function refreshNotificationCount() {
  if (!state.user || state.user.guest) return; // a webinar's guest has no notifications
  if (counting) {
    countAgain = true;
    return;
  }
  counting = true;
  try {
    do {
      countAgain = false;
      const { unread } = await api("GET", "/api/v1/notifications/count");
      if (!countAgain) state.notifications.unread = unread;
    } while (countAgain);
  } catch {
    // the next connection asks again
  } finally {
    counting = false;
    changed();
  }
}

// Into the shown list, by id (newest first); read state only ever goes one way, so a copy
// that says read wins.
function mergeNotifications(notes) {
  const { list } = state.notifications;
  if (!list) return;
  const byId = new Map(list.map((n) => [n.id, n]));
  for (const note of notes) {
    const known = byId.get(note.id);
    byId.set(note.id, known ? { ...note, read_at: known.read_at || note.read_at } : note);
  }
  state.notifications.list = [...byId.values()].sort((a, b) => b.id - a.id);
}

// The view opens: from now on live notifications are merged into its list.
export function openNotifications() {
  state.notifications.list = [];
  state.notifications.next = null;
}

export function closeNotifications() {
  state.notifications.list = null;
  state.notifications.next = null;
}

// One page (before: the `next` of the previous one, null for the newest), merged into the
// shown list. A notifications_read frame that arrives while the page is on its way may be
// older or newer than the page, so the page is asked for again (rarely needed: read state
// only ever goes one way). Resolves to the page's notifications.
export async function loadNotificationPage(before) {
  const notes = state.notifications;
  for (let attempt = 0; ; attempt += 1) {
    const reads = notes.readEvents;
    const query = new URLSearchParams({ limit: String(PAGE) });
    if (before) query.set("before", String(before));
    const { notifications, next } = await api("GET", `/api/v1/notifications?${query}`);
    if (!notes.list) return []; // the view was closed meanwhile
    if (reads !== notes.readEvents && attempt < 2) continue;
    mergeNotifications(notifications);
    notes.next = next;
    changed();
    return notifications;
  }
}

function notificationsRead(ids, unread) { // ids null: all
  const notes = state.notifications;
  if (counting) countAgain = true;
  notes.readEvents += 1;
  if (unread !== undefined) notes.unread = unread;
  const marked = ids && new Set(ids);
  const now = new Date().toISOString();
  for (const note of notes.list || []) {
    if (!note.read_at && (!marked || marked.has(note.id))) note.read_at = now;
  }
}

// ids: an array, or null for all. The answer's count is taken unless a notification came
// meanwhile (it may or may not be in that count); the `notifications_read` frame follows.
export async function markNotificationsRead(ids) {
  const before = notificationFrames;
  const { unread } = await api("POST", "/api/v1/notifications/read", ids ? { ids } : { all: true });
  notificationsRead(ids, before === notificationFrames ? unread : undefined);
  if (before !== notificationFrames) refreshNotificationCount();
  changed();
}

// Opening a room marks its unread notifications read: the member is looking at them.
export async function markRoomNotificationsRead(room) {
  if (!state.notifications.unread) return;
  const { notifications } = await api("GET", "/api/v1/notifications?unread=true&limit=100");
  const ids = notifications.filter((n) => n.room === room).map((n) => n.id);
  if (ids.length) await markNotificationsRead(ids);
}

// ---- desktop notifications --------------------------------------------------------------
// Asked for only when the member presses the button (never on load), and shown only while
// the tab is in the background: a visible tab announces news itself. The choice is this
// browser's (localStorage); the browser's own permission must say "granted" too.

const DESKTOP_KEY = "ecolink.desktop";
const desktopShown = new Set(); // message ids: a message notifies once, whichever path saw it

// "unsupported", "denied" (by the browser), "on" or "off".
export function desktopState() {
  if (typeof Notification === "undefined") return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" && localStorage.getItem(DESKTOP_KEY) === "on" ? "on" : "off";
}

export async function enableDesktop() {
  if (typeof Notification === "undefined") return;
  if ((await Notification.requestPermission()) === "granted") localStorage.setItem(DESKTOP_KEY, "on");
  changed();
}

export function disableDesktop() {
  localStorage.removeItem(DESKTOP_KEY);
  changed();
}

// The link to one message: its room opens scrolled to it, highlighted (views/attention.js).
// With its seq the room loads the history around it when it is not loaded (subjects/messages.js,
// loadAround); without, only a loaded message is found.
export const messageLink = (room, messageId, seq = null) => `#/room/${room}/message/${messageId}${seq ? `/${seq}` : ""}`;

function notifyDesktop(room, messageId, name, body, link = null) {
  if (document.visibilityState !== "hidden" || desktopState() !== "on" || desktopShown.has(messageId)) return;
  desktopShown.add(messageId);
  const where = roomInfo(room) ? roomTitle(room) : ""; // not listed yet: a conversation just opened
  const shown = new Notification(!where || where === name ? name : t("notif.desktop_title", { name, room: where }),
    { body, tag: messageId, lang: state.lang === "zh" ? "zh-CN" : "en" });
  shown.onclick = () => {
    window.focus();
    location.hash = link || (room.startsWith("webinar-") ? `#/webinar/${room}` : messageLink(room, messageId));
    shown.close();
  };
}

// A message in a room this member follows with "all" (direct rooms notify through their
// `notification` frames).
export function messageArrived(frame) {
  const info = roomInfo(frame.room);
  if (info && info.kind !== "direct" && notifyLevel(frame.room) === "all" && frame.author.id !== state.user?.id) {
    notifyDesktop(frame.room, frame.id, frame.author.name, frame.body);
  }
}

function notificationArrived(note) {
  // A room not listed yet (a conversation just opened with us) has no setting: it notifies.
  const level = roomInfo(note.room) ? notifyLevel(note.room) : "all";
  if (level === "none" || (level === "mentions" && note.kind === "direct")) return;
  // A project's update opens the project's page.
  const link = note.kind === "project_update" && note.project ? `#/projects/${note.project}` : null;
  notifyDesktop(note.room, note.message_id, note.actor.name, note.excerpt, link);
}

// ---- frames ----------------------------------------------------------------------------

export function onConnectionOpen() {
  countOnPong = true;
}

export function onPong() {
  if (countOnPong) {
    countOnPong = false;
    refreshNotificationCount();
  }
}

export function onNotification(frame) {
  const note = frame.notification;
  if (seenNotifications.has(note.id)) return;
  seenNotifications.add(note.id);
  notificationFrames += 1;
  if (counting) countAgain = true;
  mergeNotifications([note]);
  if (note.read_at) return;
  state.notifications.unread += 1;
  notificationArrived(note);
  // The room on screen shows (and announces) the message itself: nothing left to notify.
  if (note.room === state.current && document.visibilityState !== "hidden") {
    markNotificationsRead([note.id]).catch(() => {});
  } else {
    state.announce = t("notif.announce", { name: note.actor.name });
  }
}

export function onNotificationsRead(frame) {
  notificationsRead(frame.all ? null : frame.ids || [], frame.unread);
}
