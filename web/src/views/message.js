// One message in a room's list: author, time, Markdown body (sanitised again here), reactions,
// and the author's edit and delete.
import { useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { formatTime } from "../format.js";
import { deleteMessage, editMessage, state, t, toggleReaction } from "../state.js";

const EMOJIS = ["👍", "❤️", "🎉"];

export function Message({ room, message }) {
  const [editing, setEditing] = useState(false);
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
      <strong>${message.author.name}</strong>
      <time datetime=${message.sent_at}>${formatTime(message.sent_at)}</time>
      ${message.edited_at && !message.deleted && html`<span class="edited">${t("room.edited")}</span>`}
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
    ${!message.deleted && html`<div class="actions">
      ${EMOJIS.map((emoji) => {
        const users = message.reactions?.[emoji] || [];
        return html`<button type="button" class=${users.includes(state.user.id) ? "reaction on" : "reaction"}
          aria-pressed=${users.includes(state.user.id) ? "true" : "false"}
          aria-label=${t("room.react", { emoji })} onClick=${() => toggleReaction(room, message, emoji)}>
          ${emoji}${users.length ? ` ${users.length}` : ""}</button>`;
      })}
      ${mine && !editing && html`<button type="button" onClick=${() => setEditing(true)}>${t("room.edit")}</button>
        <button type="button" onClick=${() => deleteMessage(room, message.id)}>${t("room.delete")}</button>`}
    </div>`}
  </li>`;
}
