// One message in a room's list: author, time, Markdown body (sanitised again here), reactions,
// the author's edit (Enter saves, Escape cancels) and delete (confirmed first), the earlier
// versions of an edited message, a topic started from it, a reply (a quote of it put in the
// message box), an emoji picker for more reactions, and a report to the moderators.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html, safeMessageHtml } from "../html.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { messageVersions } from "../subjects/messages.js";
import { quoteInDraft } from "../subjects/drafts.js";
import { deleteMessage, editMessage, startEditing, stopEditing, toggleReaction } from "../subjects/outbox.js";
import { roomInfo } from "../subjects/rooms.js";
import { setBlocked } from "../subjects/blocks.js";
import { GuestBadge, RoleBadge } from "./badge.js";
import { PersonName } from "./people.js";
import { ConfirmDialog } from "./confirm.js";
import { EmojiPicker } from "./emojipicker.js";
import { TopicForm } from "./topicform.js";
import { useLongPress } from "./phone.js";
import { CopyLink } from "./attention.js";
import { AttachmentList } from "./attachments.js";
import { ReportDialog } from "./report.js";

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

const focusComposer = () => document.getElementById("composer")?.focus();

// The edit form: focused with the caret at the end; Enter saves, Shift+Enter adds a line,
// Escape cancels (as in the message box); focus goes back to the message box after.
// The focus and caret are placed in a layout effect, in the same task that puts the form in
// the page: a plain effect runs a frame later, after the member may have started typing (or
// selected the text to replace it), and moved the caret to the end under their fingers.
function EditForm({ room, message }) {
  const box = useRef(null);
  useLayoutEffect(() => {
    const el = box.current;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  function done() {
    stopEditing();
    focusComposer();
  }
  const [tooLong, setTooLong] = useState(false);
  function save(event) {
    event?.preventDefault();
    const body = box.current.value;
    const max = state.limits.max_body_chars;
    if (max && [...body].length > max) { // the server would refuse it: keep the form and the text
      setTooLong(true);
      return;
    }
    if (body.trim() && body !== message.body) editMessage(room, message.id, body);
    done();
  }
  function onKeyDown(event) {
    if (event.isComposing || event.keyCode === 229) return; // the input method owns these keys
    if (event.key === "Enter" && !event.shiftKey) save(event);
    else if (event.key === "Escape") {
      event.preventDefault();
      done();
    }
  }
  return html`<form class="edit" onSubmit=${save}>
    <label class="visually-hidden" for=${`edit-${message.id}`}>${t("room.edit")}</label>
    <textarea id=${`edit-${message.id}`} ref=${box} name="body" rows="2" defaultValue=${message.body}
      aria-describedby="edit-hint" onKeyDown=${onKeyDown}></textarea>
    <p id="edit-hint" class="hint">${t("room.edit_hint")}</p>
    ${tooLong && html`<p role="alert" class="error">${t("compose.edit_too_long", { max: state.limits.max_body_chars })}</p>`}
    <button type="submit">${t("room.save")}</button>
    <button type="button" onClick=${done}>${t("room.cancel")}</button>
  </form>`;
}

// "> Name: first line", the name linking to the message, then an empty line to write under.
function reply(room, message) {
  const first = (message.body.split("\n").find((line) => line.trim()) || "").replace(/^>\s*/, "").trim();
  const short = first.length > 120 ? `${first.slice(0, 120)}…` : first;
  const name = message.author.name.replace(/[[\]\\]/g, "\\$&");
  quoteInDraft(room, `> [${name}](#/room/${room}/message/${message.id}): ${short}\n\n`);
  focusComposer();
}

// A message of a member this member blocked, collapsed until asked for (nothing of it shown).
function Collapsed({ message, onShow }) {
  return html`<li class="msg blocked-msg" data-seq=${message.seq} data-id=${message.id}>
    <p class="muted">${t("block.collapsed")}
      <button type="button" class="link" onClick=${onShow}>${t("block.show")}</button></p>
  </li>`;
}

const toggleBlock = (author) => setBlocked(author.id, !state.blocked.has(author.id)).catch(() => {});

export function Message(props) {
  const { message } = props;
  const [shown, setShown] = useState(false);
  const blocked = state.blocked.has(message.author.id) && message.author.id !== state.user.id && !message.deleted;
  if (blocked && !shown) return html`<${Collapsed} message=${message} onShow=${() => setShown(true)} />`;
  return html`<${FullMessage} ...${props} onHide=${blocked ? () => setShown(false) : null} />`;
}

function FullMessage({ room, message, grouped, onHide }) {
  const editing = state.editing?.room === room && state.editing.id === message.id;
  const [confirming, setConfirming] = useState(false);
  const [history, setHistory] = useState(false);
  const [threading, setThreading] = useState(false);
  const [reporting, setReporting] = useState(false);
  // Without a pointer to hover with, a touch-and-hold on the message shows (or hides) its tools.
  const [tools, setTools] = useState(false);
  const hold = useLongPress(() => setTools((shown) => !shown));
  // The keyboard (views/messagelist.js): Enter on the message opens its tools and focuses the
  // first; Escape inside closes them and focuses the message again.
  const row = useRef(null);
  const keyOpened = useRef(false); // to be focused
  const byKey = useRef(false); // opened with Enter: closed again when focus leaves the message
  useEffect(() => {
    if (tools && keyOpened.current) row.current?.querySelector(".actions button")?.focus();
    keyOpened.current = false;
    if (!tools) byKey.current = false;
  }, [tools]);
  function onFocusOut(event) {
    if (byKey.current && !row.current?.contains(event.relatedTarget)) setTools(false);
  }
  function onKeyDown(event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.key === "Enter" && event.target === row.current) {
      event.preventDefault();
      keyOpened.current = true;
      byKey.current = true;
      setTools(true);
    } else if (event.key === "Escape" && tools) {
      event.preventDefault();
      setTools(false);
      row.current?.focus();
    }
  }
  // A topic can start from a message of a listed room (sector, city, direct), not of a thread.
  const canThread = Boolean(roomInfo(room));
  const mine = message.author.id === state.user.id;
  const mentionsMe = (message.mentions || []).includes(state.user.id);
  // Reactions shown: the usual three, then any other emoji someone reacted with.
  const shown = [...EMOJIS, ...Object.keys(message.reactions || {}).filter((e) => !EMOJIS.includes(e))];
  return html`<li class=${`msg${mentionsMe ? " mention" : ""}${tools ? " tools-open" : ""}${grouped ? " grouped" : ""}`}
    data-seq=${message.seq} data-id=${message.id} ref=${row} tabindex="-1" aria-describedby="message-keys" onKeyDown=${onKeyDown} onFocusOut=${onFocusOut} ...${hold}>
    <div class="meta">
      <strong><${PersonName} id=${message.author.id} name=${message.author.name} /></strong>
      <${RoleBadge} role=${message.author.role} /><${GuestBadge} person=${message.author} />
      <time datetime=${message.sent_at}>${formatTime(message.sent_at)}</time>
      ${message.edited_at && !message.deleted && html`<button type="button" class="link edited"
        aria-expanded=${history ? "true" : "false"} title=${t("room.show_versions")}
        onClick=${() => setHistory(!history)}>${t("room.edited")}</button>`}
      ${mentionsMe && html`<span class="tag">${t("room.mentions_you")}</span>`}
    </div>
    ${message.project_update && !message.deleted && html`<p class="project-update-mark">
      <span class="tag">${t("project.update_tag")}</span>
      <a href=${`#/projects/${message.project_update.project}`}>${t("project.update_of", { day: message.project_update.happened_on })}</a></p>`}
    ${message.deleted
      ? html`<p class="deleted">${t("room.deleted")}</p>`
      : editing
        ? html`<${EditForm} room=${room} message=${message} />`
        : html`<div class="body" dangerouslySetInnerHTML=${safeMessageHtml(message.html)} />`}
    ${!message.deleted && html`<${AttachmentList} files=${message.attachments} />`}
    ${history && !message.deleted && html`<${Versions} room=${room} message=${message} />`}
    ${!message.deleted && html`<div class="actions">
      ${shown.map((emoji) => {
        const users = message.reactions?.[emoji] || [];
        const cls = users.includes(state.user.id) ? "reaction on" : users.length ? "reaction" : "reaction tool";
        return html`<button type="button" class=${cls}
          aria-pressed=${users.includes(state.user.id) ? "true" : "false"}
          aria-label=${t("room.react", { emoji })} onClick=${() => toggleReaction(room, message, emoji)}>
          ${emoji}${users.length ? ` ${users.length}` : ""}</button>`;
      })}
      <${EmojiPicker} id=${`emoji-${message.id}`} onPick=${(emoji) => toggleReaction(room, message, emoji)} />
      <button type="button" class="tool" onClick=${() => reply(room, message)}>${t("room.reply")}</button>
      <${CopyLink} room=${room} message=${message} />
      ${mine && !editing && html`<button type="button" class="tool" onClick=${() => startEditing(room, message.id)}>${t("room.edit")}</button>
        <button type="button" class="tool" onClick=${() => setConfirming(true)}>${t("room.delete")}</button>`}
      ${canThread && !threading && html`<button type="button" class="tool" onClick=${() => setThreading(true)}>${t("topic.from_message")}</button>`}
      ${!mine && !state.user.guest && html`<button type="button" class="tool report" onClick=${() => setReporting(true)}>${t("report.action")}</button>`}
      ${!mine && !message.author.guest && html`<button type="button" class="tool block"
        aria-label=${t(state.blocked.has(message.author.id) ? "block.unblock_name" : "block.block_name", { name: message.author.name })}
        onClick=${() => toggleBlock(message.author)}>${t(state.blocked.has(message.author.id) ? "block.unblock" : "block.block")}</button>`}
      ${onHide && html`<button type="button" class="tool" onClick=${onHide}>${t("block.hide")}</button>`}
    </div>`}
    ${reporting && html`<${ReportDialog} target=${{ room, message_id: message.id }} name=${message.author.name}
      onClose=${() => setReporting(false)} />`}
    ${confirming && html`<${ConfirmDialog} title=${t("confirm.delete_title")} text=${t("confirm.delete_text")}
      confirmLabel=${t("room.delete")} onCancel=${() => setConfirming(false)}
      onConfirm=${() => { deleteMessage(room, message.id); setConfirming(false); }} />`}
    ${threading && html`<${TopicForm} room=${room} messageId=${message.id} onDone=${() => setThreading(false)} />`}
  </li>`;
}
