// A room: sector, city, direct conversation, topic or news thread (they are all rooms).
import { useEffect, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { registerView } from "../views.js";
import { api } from "../api.js";
import { clockIn } from "../format.js";
import { changed, getRoom, openRoom, roomInfo, roomTitle, state, t } from "../state.js";
import { Composer } from "./composer.js";
import { MessageList } from "./messagelist.js";

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
  useEffect(() => { openRoom(room); }, [room]);

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
    <${MessageList} room=${room} data=${data} />
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
