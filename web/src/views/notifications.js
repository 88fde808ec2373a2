// The member's notifications (docs/protocol.md, "Read state and notifications"): mentions,
// replies in threads they started, direct messages, webinar changes and updates of followed
// projects, newest first, older pages on demand.
// The unread count, the list and the live frames are kept in subjects/notifications.js; following
// one marks it read.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { DesktopSwitch } from "./attention.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import {
  closeNotifications, loadNotificationPage, markNotificationsRead, messageLink, openNotifications,
} from "../subjects/notifications.js";
import { roomInfo, roomTitle } from "../subjects/rooms.js";
import { threadTitle } from "../subjects/topics.js";
import { projectName, projectOf } from "../subjects/projects.js";

const KINDS = {
  mention: () => t("notif.kind.mention"),
  reply: () => t("notif.kind.reply"),
  direct: () => t("notif.kind.direct"),
  webinar_live: () => t("notif.kind.webinar"),
  webinar_edited: () => t("notif.kind.webinar"),
  webinar_cancelled: () => t("notif.kind.webinar"),
  project_update: () => t("notif.kind.project"),
};

// A webinar's change (its excerpt is its title) opens the webinar's page.
const isWebinar = (note) => note.kind.startsWith("webinar_");

// A webinar's change opens its page, a project's update the project; the rest their message.
function linkOf(note) {
  if (isWebinar(note)) return `#/webinar/${note.room}`;
  if (note.kind === "project_update" && note.project) return `#/projects/${note.project}`;
  return note.message_id ? messageLink(note.room, note.message_id, note.seq) : `#/room/${note.room}`;
}

// The room's title, or "" while it is not known (a direct room is named by its members,
// which are fetched after its first notification).
function titleOf(room) {
  if (roomInfo(room)) {
    const title = roomTitle(room);
    return title === room ? "" : title;
  }
  return threadTitle(room);
}

function headline(note) {
  const name = note.actor.name;
  if (isWebinar(note)) return t(`notif.${note.kind}`, { name });
  if (note.kind === "project_update") {
    const project = note.project && projectOf(note.project);
    return project ? t("notif.project_update_in", { name, project: projectName(project) }) : t("notif.project_update", { name });
  }
  const title = titleOf(note.room);
  if (note.kind === "direct") {
    // A two-person conversation is titled with the other member's name: say it once.
    return !title || title === name ? t("notif.direct", { name }) : t("notif.direct_in", { name, room: title });
  }
  const room = title || t("notif.conversation");
  return note.kind === "reply" ? t("notif.reply", { name, room }) : t("notif.mention", { name, room });
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
    <a id=${`note-${note.id}`} href=${linkOf(note)} onClick=${follow}>${headline(note)}</a>
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
    openNotifications(); // from now on live notifications are merged into its list
    let open = true;
    loadNotificationPage(null)
      .catch((err) => open && setError(t("error.generic", { message: errorMessage(err) })))
      .finally(() => open && setLoaded(true));
    return () => {
      open = false;
      closeNotifications();
    };
  }, []);

  // After "Show older" the button may be gone: focus goes to the first of the older ones.
  useEffect(() => {
    if (focusId !== null) document.getElementById(`note-${focusId}`)?.focus();
  }, [focusId]);

  async function older() {
    setBusy(true);
    try {
      const page = await loadNotificationPage(notes.next);
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
      <${DesktopSwitch} />
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${loaded && !list.length && !error && html`<p class="muted notes-empty">${t("notif.empty")}</p>`}
    ${list.length > 0 && html`<ol class="notes">${list.map((note) => html`<${Item} key=${note.id} note=${note} />`)}</ol>`}
    ${notes.next && html`<button type="button" class="link older" disabled=${busy} onClick=${older}>${t("notif.older")}</button>`}
  </section>`;
}

registerView({ name: "notifications", pattern: "/notifications", component: Notifications });
