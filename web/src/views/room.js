// A room: sector, city, direct conversation, topic or news thread (they are all rooms).
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { registerView } from "../views.js";
import { api } from "../api.js";
import { clockIn, formatTime } from "../format.js";
import {
  changed, deleteMessage, editMessage, getRoom, loadOlder, openRoom, roomInfo, roomTitle,
  sendMessage, state, t, toggleReaction, typing,
} from "../state.js";

const EMOJIS = ["👍", "❤️", "🎉"];
const WINDOW = 200; // messages kept in the DOM while following the live end

function Message({ room, message }) {
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

function Composer({ room }) {
  const [body, setBody] = useState("");
  function submit(event) {
    event?.preventDefault();
    if (!body.trim()) return;
    sendMessage(room, body);
    setBody("");
  }
  function onKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  }
  return html`<form class="composer" onSubmit=${submit}>
    <label for="composer">${t("room.compose")}</label>
    <textarea id="composer" rows="2" value=${body} aria-describedby="composer-hint"
      onInput=${(e) => { setBody(e.target.value); typing(room); }} onKeyDown=${onKeyDown}></textarea>
    <p id="composer-hint" class="hint">${t("room.compose_hint")}</p>
    <button type="submit">${t("room.send")}</button>
  </form>`;
}

function TopicForm({ room }) {
  const [open, setOpen] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { title: form.get("title") };
    if (form.get("body")) body.body = form.get("body");
    const { topic } = await api("POST", `/api/v1/rooms/${room}/topics`, body);
    setOpen(false);
    location.hash = `#/room/${topic.id}`;
  }
  if (!open) return html`<button type="button" onClick=${() => setOpen(true)}>${t("topic.new")}</button>`;
  return html`<form class="topic-form" onSubmit=${submit}>
    <label>${t("topic.title")}<input name="title" required maxlength="200" /></label>
    <label>${t("topic.body")}<textarea name="body" rows="3"></textarea></label>
    <button type="submit">${t("topic.create")}</button>
    <button type="button" onClick=${() => setOpen(false)}>${t("room.cancel")}</button>
  </form>`;
}

function ThreadList({ label, items, empty }) {
  return html`<section class="threads" aria-label=${label}>
    <h3>${label}</h3>
    ${items.length
      ? html`<ul>${items.map((topic) => html`<li>
          <a href=${`#/room/${topic.id}`}>${topic.title}</a>
          <span class="muted"> · ${t("room.replies", { count: topic.replies })}</span>
        </li>`)}</ul>`
      : html`<p class="muted">${empty}</p>`}
  </section>`;
}

function DirectHeader({ room, data }) {
  const others = (data.meta?.members || []).filter((m) => m.id !== state.user.id);
  async function setStatus(event) {
    await api("PUT", `/api/v1/rooms/${room}/status`, { status: event.target.value });
  }
  return html`<div class="direct-info">
    ${others.map((m) => html`<p class="their-time">${t("room.their_time", { name: m.name, time: clockIn(m.time_zone || "UTC") })}</p>`)}
    <div class="field"><label for="direct-status">${t("status.label")}</label>
      <select id="direct-status" value=${data.meta?.status || "open"} onChange=${setStatus}>
        ${["open", "answered", "closed"].map((s) => html`<option value=${s}>${t(`status.${s}`)}</option>`)}
      </select>
    </div>
  </div>`;
}

function RoomView({ room }) {
  const data = getRoom(room);
  const info = roomInfo(room);
  const listRef = useRef(null);
  const follow = useRef(true);
  const [windowSize, setWindowSize] = useState(WINDOW);
  useEffect(() => {
    follow.current = true;
    setWindowSize(WINDOW);
    openRoom(room);
  }, [room]);

  const shown = data.messages.slice(-windowSize);
  const pending = [...state.sending.entries()].filter(([, s]) => s.room === room);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && follow.current) list.scrollTop = list.scrollHeight;
  });

  async function onScroll(event) {
    const list = event.currentTarget;
    follow.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (follow.current && windowSize > WINDOW) setWindowSize(WINDOW);
    if (list.scrollTop < 30) {
      const before = list.scrollHeight;
      if (data.messages.length > windowSize) setWindowSize(windowSize + WINDOW);
      else if (!(await loadOlder(room))) return;
      else setWindowSize(windowSize + WINDOW);
      requestAnimationFrame(() => { list.scrollTop += list.scrollHeight - before; });
    }
  }

  const now = Date.now();
  const typers = [...data.typing.values()].filter((u) => u.until > now).map((u) => u.name);
  const online = [...data.presence.entries()].filter(([id]) => id !== state.user.id).map(([, name]) => name);
  const topic = data.meta?.topic;
  const title = topic ? topic.title : roomTitle(room);
  const isListing = info && (info.kind === "sector" || info.kind === "city");

  return html`<section class="room" aria-labelledby="room-title"><div class="room-main">
    <header class="room-head">
      <h2 id="room-title">${title}</h2>
      ${topic && topic.rooms?.length && html`<a href=${`#/room/${topic.rooms[0]}`}>${t("topic.back", { room: roomTitle(topic.rooms[0]) })}</a>`}
      <p class="presence">${online.length ? t("room.online", { names: online.join(", ") }) : t("room.nobody")}</p>
      ${info?.kind === "direct" && html`<${DirectHeader} room=${room} data=${data} />`}
    </header>
    ${topic && topic.html && html`<article class="topic-body" dangerouslySetInnerHTML=${safeHtml(topic.html)} />`}
    <div class="messages" ref=${listRef} onScroll=${onScroll} tabindex="0" aria-label=${t("room.messages")}>
      ${data.atStart && html`<p class="muted start">${t("room.start")}</p>`}
      ${!data.atStart && html`<button type="button" class="link" onClick=${() => { setWindowSize(windowSize + WINDOW); loadOlder(room); }}>${t("room.older")}</button>`}
      <ol>
        ${shown.map((message) => html`<${Message} key=${message.id} room=${room} message=${message} />`)}
        ${pending.map(([cid, s]) => html`<li key=${cid} class="msg pending"><div class="meta"><strong>${state.user.name}</strong> <span>${t("room.sending")}</span></div><p>${s.body}</p></li>`)}
      </ol>
    </div>
    ${state.notice?.room === room && html`<p role="alert" class="error">${state.notice.text}
      <button type="button" class="link" onClick=${() => { state.notice = null; changed(); }}>${t("room.dismiss")}</button></p>`}
    <p class="typing" aria-hidden="true">${typers.length ? t("room.typing", { names: typers.join(", ") }) : ""}</p>
    <${Composer} room=${room} />
    </div>
    ${isListing && html`<aside class="side" aria-label=${t("room.topics")}>
      <${TopicForm} room=${room} />
      <${ThreadList} label=${t("room.topics")} items=${data.topics} empty=${t("room.no_topics")} />
      <${ThreadList} label=${t("room.news")} items=${data.news} empty=${t("news.empty")} />
    </aside>`}
  </section>`;
}

registerView({ name: "room", pattern: "/room/:room", component: RoomView });
