// A room: sector, city, direct conversation, topic or news thread (they are all rooms).
import { useEffect, useRef, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { registerView } from "../views.js";
import { localTime } from "../format.js";
import { state } from "../state.js";
import { setBlocked } from "../subjects/blocks.js";
import { addMember, declineDirect, leaveDirect, loadConversation, setStatus, startGroup } from "../subjects/conversations.js";
import { openRoom } from "../subjects/current.js";
import { searchMembers } from "../subjects/directory.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomData } from "../subjects/messages.js";
import { dismissNotice } from "../subjects/outbox.js";
import { roomDescription, roomInfo, roomTitle } from "../subjects/rooms.js";
import { updateTopic } from "../subjects/topics.js";
import { Composer } from "./composer.js";
import { AttachmentList } from "./attachments.js";
import { MessageList } from "./messagelist.js";
import { ConfirmDialog } from "./confirm.js";
import { AddChoice } from "./addchoice.js";
import { TopicForm } from "./topicform.js";
import { RoomWebinars } from "./webinars.js";
import { usePhone } from "./phone.js";
import { RoomAttention, useMessageFocus } from "./attention.js";
import { ExportButton } from "./exportdialog.js";

function ThreadList({ label, items, empty }) {
  return html`<section class="threads" aria-label=${label}>
    <h3>${label}</h3>
    ${items.length
      ? html`<ul>${items.map((topic) => html`<li>
          ${topic.pinned && html`<span class="tag pinned">${t("topic.pinned")}</span> `}
          <a href=${`#/room/${topic.id}`}>${topic.title}</a>
          ${topic.resolved && html` <span class="tag resolved">${t("topic.resolved")}</span>`}
          <span class="muted"> · ${t("room.replies", { count: topic.replies })}</span>
        </li>`)}</ul>`
      : html`<p class="muted">${empty}</p>`}
  </section>`;
}

// A topic's or news post's state: resolved (by its author or a moderator), pinned (moderators).
function TopicActions({ topic }) {
  const [error, setError] = useState("");
  const moderator = state.user.role === "moderator" || state.user.role === "admin";
  const mayResolve = moderator || topic.author?.id === state.user.id;
  async function update(change) {
    try {
      await updateTopic(topic.id, change);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`<div class="topic-state">
    ${topic.pinned && html`<span class="tag pinned">${t("topic.pinned")}</span>`}
    ${topic.resolved && html`<span class="tag resolved">${t("topic.resolved")}</span>`}
    ${mayResolve && html`<button type="button" class="link" onClick=${() => update({ resolved: !topic.resolved })}>
      ${t(topic.resolved ? "topic.reopen" : "topic.resolve")}</button>`}
    ${moderator && html`<button type="button" class="link" onClick=${() => update({ pinned: !topic.pinned })}>
      ${t(topic.pinned ? "topic.unpin" : "topic.pin")}</button>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

// Bringing someone else into a direct conversation: search the directory, pick, then choose:
// add them here (they see the earlier messages) or start a new conversation with everyone.
function AddMember({ room, members }) {
  const [open, setOpen] = useState(false);
  const [choosing, setChoosing] = useState(null); // the member picked, while the choice is asked
  const [query, setQuery] = useState("");
  const [found, setFound] = useState([]);
  const [error, setError] = useState("");
  const search = useRef(null);
  useEffect(() => { if (open) search.current?.focus(); }, [open]); // opened: ready to type
  useEffect(() => {
    if (!open || !query.trim()) { setFound([]); return undefined; }
    let current = true; // late answers to earlier keystrokes are dropped
    searchMembers({ q: query.trim(), limit: "8" })
      .then((members) => current && setFound(members))
      .catch(() => current && setFound([]));
    return () => { current = false; };
  }, [open, query]);
  async function add(member) {
    setChoosing(null);
    try {
      await addMember(room, member.id);
      setOpen(false);
      setQuery("");
      setError("");
      await loadConversation(room);
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  async function startNew(member) {
    setChoosing(null);
    try {
      const others = members.filter((m) => m.id !== state.user.id).map((m) => m.id);
      const next = await startGroup([...others, member.id]);
      setOpen(false);
      setQuery("");
      setError("");
      location.hash = `#/room/${next}`;
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  if (!open) return html`<button type="button" class="link" onClick=${() => setOpen(true)}>${t("direct.add")}</button>`;
  const present = new Set(members.map((m) => m.id));
  return html`<div class="add-member" role="group" aria-label=${t("direct.add")}>
    <label for="add-member-q">${t("direct.add_search")}</label>
    <input id="add-member-q" ref=${search} type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} />
    <ul>${found.filter((m) => !present.has(m.id)).map((m) => html`<li>
      <span>${m.display_name}${m.organisation ? ` · ${m.organisation}` : ""}</span>
      <button type="button" onClick=${() => setChoosing(m)}>${t("direct.add_member", { name: m.display_name })}</button>
    </li>`)}</ul>
    ${choosing && html`<${AddChoice} name=${choosing.display_name} onAdd=${() => add(choosing)}
      onNew=${() => startNew(choosing)} onCancel=${() => setChoosing(null)} />`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <button type="button" class="link" onClick=${() => { setOpen(false); setError(""); }}>${t("room.cancel")}</button>
  </div>`;
}

// Brought in by someone else and not written here yet: decline in one click (out for good),
// or decline and block whoever added you.
function AddedBy({ room, by, act }) {
  return html`<div class="added-by" role="group" aria-label=${t("direct.request")}>
    <p>${t("direct.added_by", { name: by.name })}</p>
    <button type="button" onClick=${() => act(() => declineDirect(room, false))}>${t("direct.decline")}</button>
    <button type="button" onClick=${() => act(() => declineDirect(room, true))}>${t("direct.decline_block", { name: by.name })}</button>
  </div>`;
}

function DirectHeader({ room, data }) {
  const [error, setError] = useState("");
  const [leaving, setLeaving] = useState(false);
  const members = data.meta?.members || [];
  const others = members.filter((m) => m.id !== state.user.id);
  const by = data.meta?.addedBy;
  const written = data.messages.some((m) => m.author?.id === state.user.id);
  async function act(call) {
    try {
      await call();
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const changeStatus = (event) => act(() => setStatus(room, event.target.value));
  const leave = () => { setLeaving(false); act(() => leaveDirect(room)); };
  const toggleBlock = (m) => act(() => setBlocked(m.id, !state.blocked.has(m.id)));
  return html`<div class="direct-info">
    ${by && !written && html`<${AddedBy} room=${room} by=${by} act=${act} />`}
    ${others.length > 1 && html`<p class="members-line">${t("direct.members", { names: members.map((m) => m.name).join(", ") })}</p>`}
    ${others.map((m) => localTime(m.time_zone)).map((local, i) => local && html`<p class="their-time">${t("room.their_time", { name: others[i].name, ...local })}</p>`)}
    <div class="field"><label for="direct-status">${t("status.label")}</label>
      <select id="direct-status" value=${data.meta?.status || "open"} onChange=${changeStatus}>
        ${["open", "answered", "closed"].map((s) => html`<option value=${s}>${t(`status.${s}`)}</option>`)}
      </select>
    </div>
    <${AddMember} room=${room} members=${members} />
    <button type="button" class="link" onClick=${() => setLeaving(true)} title=${t("direct.leave_hint")}>${t("direct.leave")}</button>
    ${leaving && html`<${ConfirmDialog} title=${t("confirm.leave_title")} text=${t("direct.leave_hint")}
      confirmLabel=${t("direct.leave")} onCancel=${() => setLeaving(false)} onConfirm=${leave} />`}
    ${others.map((m) => html`<button type="button" class="link block" onClick=${() => toggleBlock(m)}>
      ${t(state.blocked.has(m.id) ? "direct.unblock" : "direct.block", { name: m.name })}</button>`)}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

// "Seen by": who of the others in a direct conversation has read its latest message.
function ReadBy({ data }) {
  const last = data.messages.length ? data.messages[data.messages.length - 1] : null;
  if (!last || !data.reads) return null;
  const seen = [...data.reads.entries()]
    .filter(([id, read]) => id !== state.user.id && read.seq >= last.seq && id !== last.author.id)
    .map(([, read]) => read.name);
  return html`<p class="read-by">${seen.length ? t("direct.seen_by", { names: seen.join(", ") }) : ""}</p>`;
}

// The message a topic was started from: quoted when this client has it, always linked.
function Origin({ origin }) {
  const message = roomData(origin.room).byId.get(origin.message);
  return html`<figure class="origin">
    ${message && !message.deleted && html`<blockquote dangerouslySetInnerHTML=${safeHtml(message.html)} />`}
    <figcaption>
      <a href=${`#/room/${origin.room}`}>${message
        ? t("topic.origin_by", { name: message.author.name, room: roomTitle(origin.room) })
        : t("topic.origin", { room: roomTitle(origin.room) })}</a>
    </figcaption>
  </figure>`;
}

function RoomView({ room, message, seq }) {
  const data = roomData(room);
  const info = roomInfo(room);
  useMessageFocus(room, message, data.loaded);
  useEffect(() => {
    openRoom(room, message ? { id: message, seq: Number(seq) > 0 ? Number(seq) : null } : null);
    // Opened: ready to write. Not on a touch screen, where focus would pop up the keyboard
    // over the conversation just opened.
    if (!matchMedia("(pointer: coarse)").matches) document.getElementById("composer")?.focus();
  }, [room, message, seq]);
  // On a phone the side panel (topics, news) is behind a button in the room's header.
  const phone = usePhone();
  const [side, setSide] = useState(false);
  useEffect(() => setSide(false), [room]);
  const sideButton = useRef(null);
  const sideOpened = useRef(false);
  useEffect(() => { // focus into the panel when it opens, back to its button when it closes
    if (side) document.querySelector(".side-close")?.focus();
    else if (sideOpened.current) sideButton.current?.focus();
    sideOpened.current = side;
  }, [side]);

  if (data.missing) {
    return html`<section class="room missing" aria-labelledby="room-title">
      <h2 id="room-title">${t("room.missing")}</h2>
      <p>${t("room.missing_hint")}</p>
      <p><a href=${`#/room/${state.rooms[0]?.id || "urban-renewal"}`}>${t("room.missing_back")}</a></p>
    </section>`;
  }
  const now = Date.now();
  const typers = [...data.typing.values()].filter((u) => u.until > now).map((u) => u.name);
  const online = [...data.presence.entries()].filter(([id]) => id !== state.user.id).map(([, name]) => name);
  const topic = data.meta?.topic;
  const title = topic ? topic.title : roomTitle(room);
  const isListing = info && (info.kind === "sector" || info.kind === "city");
  const about = topic ? "" : roomDescription(room); // what a sector or city room is for

  return html`<section class="room" aria-labelledby="room-title" aria-describedby=${about ? "room-about" : undefined}><div class="room-main">
    <header class="room-head">
      <h2 id="room-title">${title}</h2>
      <${ExportButton} scope=${topic ? "topic" : "room"} id=${room} title=${title} />
      ${phone && isListing && html`<button type="button" class="side-toggle" ref=${sideButton} aria-expanded=${side ? "true" : "false"}
        aria-controls="room-side" onClick=${() => setSide(!side)}>${t("room.side_open")}</button>`}
      ${about && html`<p class="room-about" id="room-about">${about}</p>`}
      ${topic && topic.rooms?.length && html`<a href=${`#/room/${topic.rooms[0]}`}>${t("topic.back", { room: roomTitle(topic.rooms[0]) })}</a>`}
      ${topic && html`<${TopicActions} topic=${topic} />`}
      <p class="presence">${online.length ? t("room.online", { names: online.join(", ") }) : t("room.nobody")}</p>
      ${info?.kind === "direct" && html`<${DirectHeader} room=${room} data=${data} />`}
      <${RoomAttention} room=${room} />
    </header>
    ${topic?.origin && html`<${Origin} origin=${topic.origin} />`}
    ${topic && topic.html && html`<article class="topic-body" dangerouslySetInnerHTML=${safeHtml(topic.html)} />`}
    ${topic?.attachments && html`<${AttachmentList} files=${topic.attachments} />`}
    <${MessageList} room=${room} data=${data} />
    ${info?.kind === "direct" && html`<${ReadBy} data=${data} />`}
    ${state.notice?.room === room && html`<p role="alert" class=${state.notice.info ? "notice" : "error"}>${state.notice.text}
      <button type="button" class="link" onClick=${dismissNotice}>${t("room.dismiss")}</button></p>`}
    <p class="typing" aria-hidden="true">${typers.length ? t("room.typing", { names: typers.join(", ") }) : ""}</p>
    <${Composer} key=${room} room=${room} />
    </div>
    ${isListing && (!phone || side) && html`<aside class="side" id="room-side" aria-label=${t("room.topics")}
      onKeyDown=${(e) => e.key === "Escape" && setSide(false)}>
      ${phone && html`<button type="button" class="side-close" onClick=${() => setSide(false)}>${t("room.side_close")}</button>`}
      <${TopicForm} room=${room} />
      <${ThreadList} label=${t("room.topics")} items=${data.topics} empty=${t("room.no_topics")} />
      <${ThreadList} label=${t("room.news")} items=${data.news} empty=${t("news.empty")} />
      <${RoomWebinars} room=${room} />
    </aside>`}
  </section>`;
}

registerView({ name: "room", pattern: "/room/:room", component: RoomView });
// A link to one message (a reply's quote links there): its room.
registerView({ name: "room", pattern: "/room/:room/message/:message", component: RoomView });
// ... with its seq: the room loads the history around it when it is not loaded (a search result).
registerView({ name: "room", pattern: "/room/:room/message/:message/:seq", component: RoomView });
