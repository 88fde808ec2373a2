// A webinar's page (/#/webinar/<id>, the address its calendar file links): its details (title,
// times in the viewer's zone and the host's, description, hosts and panelists, listing rooms,
// state), the hosts' controls (start, end, cancel, edit, chat mode) and the audience chat, which
// is the webinar's room: its timeline (with the `webinar` entries as lines) and message box,
// joined like any room. Changes made anywhere (another node, another host) arrive as entries
// and redraw the page. The Q&A board and polls are panels registered into the slot below.
import { useEffect, useRef, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomData } from "../subjects/messages.js";
import { dismissNotice } from "../subjects/outbox.js";
import { roomTitle } from "../subjects/rooms.js";
import {
  cancelWebinar, endWebinar, mayPost, mayRun, openWebinar, setChatMode, startWebinar, webinarOf, webinarTitle,
} from "../subjects/webinars.js";
import { Composer } from "./composer.js";
import { MessageList } from "./messagelist.js";
import { ConfirmDialog } from "./confirm.js";
import { usePhone } from "./phone.js";
import { CalendarLink, RegisterButton, StateBadge, WebinarTimes } from "./webinars.js";
import { WebinarForm } from "./webinarform.js";
import { ExportButton } from "./exportdialog.js";
import { AttachmentList } from "./attachments.js";

// ---- the slot for the Q&A board and polls ----------------------------------------------
// The board engineer's panels (views/webinarboard.js …) register here, one call each:
// registerWebinarPanel({ name: "board", component: Board }); each is drawn in the page's
// panel area as <Component webinar=${webinar} room=${id} />, in the order registered.
const panels = [];
export function registerWebinarPanel(panel) {
  panels.push(panel);
}

function People({ label, people, role }) {
  if (!people.length) return null;
  return html`<div class="webinar-people"><h3>${label}</h3><ul>${people.map((p) => html`<li>
    ${p.name} <span class=${`tag role-${role}`}>${t(`webinar.role.${role}`)}</span></li>`)}</ul></div>`;
}

// Start, end (confirmed), cancel (confirmed), edit; the chat's mode.
function HostControls({ webinar, onEdit }) {
  const [asking, setAsking] = useState(null); // "end" | "cancel"
  const [error, setError] = useState("");
  const [mode, setMode] = useState(webinar.chat.mode);
  const [slow, setSlow] = useState(webinar.chat.slow_s || 30);
  useEffect(() => { setMode(webinar.chat.mode); if (webinar.chat.slow_s) setSlow(webinar.chat.slow_s); },
    [webinar.chat.mode, webinar.chat.slow_s]);
  async function act(call) {
    setAsking(null);
    try {
      await call();
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const closed = webinar.state === "ended" || webinar.state === "cancelled";
  const applyChat = (event) => { event.preventDefault(); act(() => setChatMode(webinar.id, mode, Number(slow))); };
  return html`<div class="host-controls" role="group" aria-label=${t("webinar.controls")}>
    <div class="buttons">
      ${webinar.state === "scheduled" && html`<button type="button" onClick=${() => act(() => startWebinar(webinar.id))}>${t("webinar.start")}</button>`}
      ${webinar.state === "live" && html`<button type="button" class="danger" onClick=${() => setAsking("end")}>${t("webinar.end")}</button>`}
      ${webinar.state === "scheduled" && html`<button type="button" class="link" onClick=${onEdit}>${t("webinar.edit")}</button>`}
      ${webinar.state === "scheduled" && html`<button type="button" class="link" onClick=${() => setAsking("cancel")}>${t("webinar.cancel")}</button>`}
    </div>
    ${!closed && html`<form class="chat-mode" onSubmit=${applyChat}>
      <div class="field"><label for="chat-mode">${t("webinar.chat_mode")}</label>
        <select id="chat-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
          ${["open", "slow", "off"].map((m) => html`<option value=${m}>${t(`webinar.chat.${m}`)}</option>`)}
        </select></div>
      ${mode === "slow" && html`<div class="field"><label for="chat-slow">${t("webinar.slow_seconds")}</label>
        <input id="chat-slow" type="number" min="1" max="3600" value=${slow} onInput=${(e) => setSlow(e.target.value)} /></div>`}
      <button type="submit">${t("webinar.chat_apply")}</button>
    </form>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${asking === "end" && html`<${ConfirmDialog} title=${t("webinar.end_title")} text=${t("webinar.end_text")}
      confirmLabel=${t("webinar.end")} onCancel=${() => setAsking(null)} onConfirm=${() => act(() => endWebinar(webinar.id))} />`}
    ${asking === "cancel" && html`<${ConfirmDialog} title=${t("webinar.cancel_title")} text=${t("webinar.cancel_text")}
      confirmLabel=${t("webinar.cancel_confirm")} onCancel=${() => setAsking(null)} onConfirm=${() => act(() => cancelWebinar(webinar.id))} />`}
  </div>`;
}

// What the chat takes now, said above the message box (or instead of it).
function ChatState({ webinar }) {
  const { mode, slow_s: slowS } = webinar.chat;
  if (webinar.state === "ended" || webinar.state === "cancelled") {
    return html`<p class="chat-state closed" id="chat-state">${t(`webinar.chat_closed.${webinar.state}`)}</p>`;
  }
  if (mode === "off") return html`<p class="chat-state closed" id="chat-state">${t(mayRun(webinar) ? "webinar.chat_off_host" : "webinar.chat_off")}</p>`;
  if (mode === "slow") return html`<p class="chat-state" id="chat-state">${t(mayRun(webinar) ? "webinar.chat_slow_host" : "webinar.chat_slow", { n: slowS })}</p>`;
  return null;
}

function Details({ webinar }) {
  return html`<div class="webinar-details">
    ${webinar.html && html`<div class="webinar-description" dangerouslySetInnerHTML=${safeHtml(webinar.html)} />`}
    <${AttachmentList} files=${webinar.attachments} />
    <${People} label=${t("webinar.hosts")} people=${webinar.hosts} role="host" />
    <${People} label=${t("webinar.panelists")} people=${webinar.panelists} role="panelist" />
    ${webinar.rooms.length > 0 && !state.user.guest && html`<p>${t("webinar.listed_in")} ${webinar.rooms.map((r, i) => html`${i ? ", " : ""}<a href=${`#/room/${r}`}>${roomTitle(r)}</a>`)}</p>`}
    <p class="muted">${t("webinar.registrations", { count: webinar.registrations })}</p>
  </div>`;
}

function WebinarPage({ id }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState("");
  const phone = usePhone();
  const [side, setSide] = useState(false);
  const sideButton = useRef(null);
  useEffect(() => { if (side) document.querySelector(".side-close")?.focus(); }, [side]); // into the panel as it opens
  useEffect(() => {
    setEditing(false);
    setSide(false);
    openWebinar(id).then(() => setError("")).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [id]);
  const webinar = webinarOf(id);
  if (state.webinars.missing.has(id)) {
    return html`<section class="webinar missing" aria-labelledby="room-title">
      <h2 id="room-title">${t("webinar.missing")}</h2>
      <p><a href="#/webinars">${t("webinar.all")}</a></p>
    </section>`;
  }
  if (!webinar || webinar.html === undefined) {
    return html`<section class="webinar" aria-labelledby="room-title"><h2 id="room-title">${t("webinar.title")}</h2>
      ${error && html`<p role="alert" class="error">${error}</p>`}</section>`;
  }
  const data = roomData(id);
  const title = webinarTitle(webinar);
  const runs = mayRun(webinar);
  const posting = mayPost(webinar);
  const closeSide = () => { setSide(false); sideButton.current?.focus(); };
  return html`<section class="room webinar" aria-labelledby="room-title" data-state=${webinar.state}><div class="room-main">
    <header class="room-head webinar-head">
      <div class="webinar-title-row">
        <h2 id="room-title">${title}</h2>
        <${StateBadge} webinar=${webinar} />
        ${phone && html`<button type="button" class="side-toggle" ref=${sideButton} aria-expanded=${side ? "true" : "false"}
          aria-controls="room-side" onClick=${() => setSide(!side)}>${t("webinar.side_open")}</button>`}
      </div>
      <${WebinarTimes} webinar=${webinar} />
      <div class="webinar-actions"><${RegisterButton} webinar=${webinar} /> <${CalendarLink} webinar=${webinar} />
        <${ExportButton} scope="webinar" id=${webinar.id} title=${title} /></div>
      ${runs && !editing && html`<${HostControls} webinar=${webinar} onEdit=${() => setEditing(true)} />`}
    </header>
    ${editing && html`<${WebinarForm} webinar=${webinar} onDone=${() => setEditing(false)} />`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <${MessageList} room=${id} data=${data} />
    ${state.notice?.room === id && html`<p role=${state.notice.info ? "status" : "alert"} class=${state.notice.info ? "notice" : "error"}>${state.notice.text}
      <button type="button" class="link" onClick=${dismissNotice}>${t("room.dismiss")}</button></p>`}
    <${ChatState} webinar=${webinar} />
    ${posting && html`<${Composer} key=${id} room=${id} />`}
    </div>
    ${(!phone || side) && html`<aside class="side webinar-side" id="room-side" aria-label=${t("webinar.about")}
      onKeyDown=${(e) => e.key === "Escape" && closeSide()}>
      ${phone && html`<button type="button" class="side-close" onClick=${closeSide}>${t("webinar.side_close")}</button>`}
      <div class="webinar-panels" data-slot="webinar-panels">
        ${panels.map(({ name, component }) => html`<${component} key=${name} webinar=${webinar} room=${id} />`)}
      </div>
      <h3>${t("webinar.about")}</h3>
      <${Details} webinar=${webinar} />
    </aside>`}
  </section>`;
}

registerView({ name: "webinar", pattern: "/webinar/:id", component: WebinarPage });
