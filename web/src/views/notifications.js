// The member's notifications (docs/protocol.md, "Read state and notifications"): mentions,
// replies in threads they started and direct messages, newest first, older pages on demand.
// The unread count and the live frames are kept in state.js; following one marks it read.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { api } from "../api.js";
import { formatTime } from "../format.js";
import { changed, errorMessage, markNotificationsRead, mergeNotifications, roomInfo, roomTitle, state, t } from "../state.js";

const PAGE = 30;

const KINDS = {
  mention: () => t("notif.kind.mention"),
  reply: () => t("notif.kind.reply"),
  direct: () => t("notif.kind.direct"),
};

// Topic and news threads are rooms outside the room list: their titles are asked for once.
const threadTitles = new Map(); // room id -> title ("" while asked, or when it failed)

// The room's title, or "" while it is not known (a direct room is named by its members,
// which are fetched after its first notification).
function titleOf(room) {
  if (roomInfo(room)) {
    const title = roomTitle(room);
    return title === room ? "" : title;
  }
  const topic = state.data.get(room)?.meta?.topic;
  if (topic) return topic.title;
  if (!/^[tn]-/.test(room)) return "";
  if (!threadTitles.has(room)) {
    threadTitles.set(room, "");
    api("GET", `/api/v1/topics/${room}`)
      .then(({ topic: found }) => { threadTitles.set(room, found.title); changed(); })
      .catch(() => {});
  }
  return threadTitles.get(room);
}

function headline(note) {
  const name = note.actor.name;
  const title = titleOf(note.room);
  if (note.kind === "direct") {
    // A two-person conversation is titled with the other member's name: say it once.
    return !title || title === name ? t("notif.direct", { name }) : t("notif.direct_in", { name, room: title });
  }
  const room = title || t("notif.conversation");
  return note.kind === "reply" ? t("notif.reply", { name, room }) : t("notif.mention", { name, room });
}

// One page, merged into the shown list (state.js merges live ones too). A notifications_read
// frame that arrives while the page is on its way may be older or newer than the page, so
// the page is asked for again (rarely needed: read state only ever goes one way).
async function loadPage(before) {
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

function Item({ note }) {
  const unread = !note.read_at;
  function follow() {
    if (unread) markNotificationsRead([note.id]).catch(() => {});
  }
  return html`<li class=${`note${unread ? " unread" : ""}`} data-kind=${note.kind}>
    <p class="note-meta">
      <span class="note-kind">${KINDS[note.kind] ? KINDS[note.kind]() : note.kind}</span>
      ${unread && html`<span class="note-new">${t("notif.unread")}</span>`}
      <time datetime=${note.created_at}>${formatTime(note.created_at)}</time>
    </p>
    <a id=${`note-${note.id}`} href=${`#/room/${note.room}`} onClick=${follow}>${headline(note)}</a>
    ${note.excerpt && html`<p class="note-excerpt">${note.excerpt}</p>`}
  </li>`;
}

function Notifications() {
  const notes = state.notifications;
  const [loaded, setLoaded] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [focusId, setFocusId] = useState(null);

  useEffect(() => {
    notes.list = []; // from now on live notifications are merged into it
    notes.next = null;
    let open = true;
    loadPage(null)
      .catch((err) => open && setError(t("error.generic", { message: errorMessage(err) })))
      .finally(() => open && setLoaded(true));
    return () => {
      open = false;
      notes.list = null;
      notes.next = null;
    };
  }, []);

  // After "Show older" the button may be gone: focus goes to the first of the older ones.
  useEffect(() => {
    if (focusId !== null) document.getElementById(`note-${focusId}`)?.focus();
  }, [focusId]);

  async function older() {
    setBusy(true);
    try {
      const page = await loadPage(notes.next);
      if (page.length) setFocusId(page[0].id);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }

  async function markAll() {
    try {
      await markNotificationsRead(null);
      document.getElementById("notif-title")?.focus(); // the button goes away
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }

  const list = notes.list || [];
  return html`<section class="notifications" aria-labelledby="notif-title">
    <div class="notif-head">
      <h2 id="notif-title" tabindex="-1">${t("notif.title")}</h2>
      ${notes.unread > 0 && html`<button type="button" onClick=${markAll}>${t("notif.mark_all")}</button>`}
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${loaded && !list.length && !error && html`<p class="muted notes-empty">${t("notif.empty")}</p>`}
    ${list.length > 0 && html`<ol class="notes">${list.map((note) => html`<${Item} key=${note.id} note=${note} />`)}</ol>`}
    ${notes.next && html`<button type="button" class="link older" disabled=${busy} onClick=${older}>${t("notif.older")}</button>`}
  </section>`;
}

registerView({ name: "notifications", pattern: "/notifications", component: Notifications });
