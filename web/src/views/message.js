// One message in a room's list: author, time, Markdown body (sanitised again here), reactions,
// the author's edit and delete, the earlier versions of an edited message, and a topic started
// from it.
import { useEffect, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { messageVersions } from "../subjects/messages.js";
import { deleteMessage, editMessage, toggleReaction } from "../subjects/outbox.js";
import { roomInfo } from "../subjects/rooms.js";
import { RoleBadge } from "./badge.js";
import { PersonName } from "./people.js";
import { TopicForm } from "./topicform.js";

const EMOJIS = ["👍", "❤️", "🎉"];

// The earlier bodies of an edited message, oldest first, fetched when asked for (as text: the
// Markdown source the author wrote).
function Versions({ room, message }) {
  const [versions, setVersions] = useState(null);
  useEffect(() => {
    let current = true;
    messageVersions(room, message.id)
      .then((found) => current && setVersions(found))
      .catch((err) => current && setVersions({ error: errorMessage(err) }));
    return () => { current = false; };
  }, [room, message.id, message.edited_at]);
  if (!versions) return html`<p class="muted versions">${t("room.loading")}</p>`;
  if (versions.error) return html`<p role="alert" class="error versions">${t("error.generic", { message: versions.error })}</p>`;
  return html`<section class="versions" aria-label=${t("room.versions")}>
    <ol>${versions.map((v) => html`<li>
      <span class="muted">${t("room.version", { n: v.version, time: formatTime(v.edited_at) })}</span>
      <p class="source">${v.body}</p>
    </li>`)}</ol>
  </section>`;
}

export function Message({ room, message }) {
  const [editing, setEditing] = useState(false);
  const [history, setHistory] = useState(false);
  const [threading, setThreading] = useState(false);
  // A topic can start from a message of a listed room (sector, city, direct), not of a thread.
  const canThread = Boolean(roomInfo(room));
  const mine = message.author.id === state.user.id;
  const mentionsMe = (message.mentions || []).includes(state.user.id);
  async function save(event) {
    event.preventDefault();
    const body = new FormData(event.target).get("body");
    if (body.trim()) editMessage(room, message.id, body);
    setEditing(false);
  }
  return html`<li class=${`msg${mentionsMe ? " mention" : ""}`} data-seq=${message.seq} data-id=${message.id}>
    <div class="meta">
      <strong><${PersonName} id=${message.author.id} name=${message.author.name} /></strong>
      <${RoleBadge} role=${message.author.role} />
      <time datetime=${message.sent_at}>${formatTime(message.sent_at)}</time>
      ${message.edited_at && !message.deleted && html`<button type="button" class="link edited"
        aria-expanded=${history ? "true" : "false"} title=${t("room.show_versions")}
        onClick=${() => setHistory(!history)}>${t("room.edited")}</button>`}
      ${mentionsMe && html`<span class="tag">${t("room.mentions_you")}</span>`}
    </div>
    ${message.deleted
      ? html`<p class="deleted">${t("room.deleted")}</p>`
      : editing
        ? html`<form class="edit" onSubmit=${save}>
            <label class="visually-hidden" for=${`edit-${message.id}`}>${t("room.edit")}</label>
            <textarea id=${`edit-${message.id}`} name="body" rows="2" defaultValue=${message.body}></textarea>
            <button type="submit">${t("room.save")}</button>
            <button type="button" onClick=${() => setEditing(false)}>${t("room.cancel")}</button>
          </form>`
        : html`<div class="body" dangerouslySetInnerHTML=${safeHtml(message.html)} />`}
    ${history && !message.deleted && html`<${Versions} room=${room} message=${message} />`}
    ${!message.deleted && html`<div class="actions">
      ${EMOJIS.map((emoji) => {
        const users = message.reactions?.[emoji] || [];
        const cls = users.includes(state.user.id) ? "reaction on" : users.length ? "reaction" : "reaction tool";
        return html`<button type="button" class=${cls}
          aria-pressed=${users.includes(state.user.id) ? "true" : "false"}
          aria-label=${t("room.react", { emoji })} onClick=${() => toggleReaction(room, message, emoji)}>
          ${emoji}${users.length ? ` ${users.length}` : ""}</button>`;
      })}
      ${mine && !editing && html`<button type="button" class="tool" onClick=${() => setEditing(true)}>${t("room.edit")}</button>
        <button type="button" class="tool" onClick=${() => deleteMessage(room, message.id)}>${t("room.delete")}</button>`}
      ${canThread && !threading && html`<button type="button" class="tool" onClick=${() => setThreading(true)}>${t("topic.from_message")}</button>`}
    </div>`}
    ${threading && html`<${TopicForm} room=${room} messageId=${message.id} onDone=${() => setThreading(false)} />`}
  </li>`;
}
