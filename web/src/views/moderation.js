// The moderators' page (moderators and admins; the sidebar links it for them): the reports
// queue (open ones oldest first; closed ones newest first; a reported message quoted as it was
// reported), each report's actions (dismiss,
// remove the message, warn, mute in its room or suspend for a chosen time, ban: confirmed
// first), and a member's record (#/moderation/member/<id>): sanctions, reports about them,
// actions without a report and the lifts (unmute, unsuspend, unban).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { state } from "../state.js";
import {
  actOnMember, actOnReport, dismissNotice, DURATIONS, isModerator, loadQueue, loadRecord,
} from "../subjects/moderation.js";
import { ConfirmDialog } from "./confirm.js";

function roomName(id) {
  const room = state.rooms.find((r) => r.id === id);
  return room ? roomTitle(room) : id;
}

function durationLabel(seconds) {
  return seconds >= 86400 ? t("moderation.days", { count: seconds / 86400 }) : t("moderation.hours", { count: seconds / 3600 });
}

// The actions on one member (`onAct(action, {duration_s})`): warn, mute (when a room is known)
// and suspend for the chosen duration, ban (confirmed first).
function Actions({ id, canRemove, canMute, onAct, busy }) {
  const [duration, setDuration] = useState(String(DURATIONS[1]));
  const [banning, setBanning] = useState(false);
  const timed = (action) => onAct(action, { duration_s: Number(duration) });
  return html`<div class="mod-actions" role="group" aria-label=${t("moderation.actions")}>
    <label for=${`${id}-duration`}>${t("moderation.duration")}</label>
    <select id=${`${id}-duration`} value=${duration} onChange=${(e) => setDuration(e.target.value)}>
      ${DURATIONS.map((s) => html`<option value=${String(s)}>${durationLabel(s)}</option>`)}
    </select>
    ${canRemove && html`<button type="button" disabled=${busy} onClick=${() => onAct("remove")}>${t("moderation.action.remove")}</button>`}
    <button type="button" disabled=${busy} onClick=${() => onAct("warn")}>${t("moderation.action.warn")}</button>
    ${canMute && html`<button type="button" disabled=${busy} onClick=${() => timed("mute")}>${t("moderation.action.mute")}</button>`}
    <button type="button" disabled=${busy} onClick=${() => timed("suspend")}>${t("moderation.action.suspend")}</button>
    <button type="button" class="danger" disabled=${busy} onClick=${() => setBanning(true)}>${t("moderation.action.ban")}</button>
    ${banning && html`<${ConfirmDialog} title=${t("moderation.ban_title")} text=${t("moderation.ban_text")}
      confirmLabel=${t("moderation.action.ban")} onCancel=${() => setBanning(false)}
      onConfirm=${() => { setBanning(false); onAct("ban"); }} />`}
  </div>`;
}

// The copy of a reported message kept with its report (what the reporter saw; plain text,
// never rendered as HTML), readable though the moderator is not in its room.
function ReportedMessage({ message }) {
  const name = message.author.name || t("person.deleted");
  return html`<figure class="reported-message">
    <figcaption>${t("moderation.message_by", { name })} · <time datetime=${message.sent_at}>${formatTime(message.sent_at)}</time></figcaption>
    <blockquote>${message.body}</blockquote>
  </figure>`;
}

function ReportItem({ report, onDone }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function act(action, options = {}) {
    setBusy(true);
    try {
      await actOnReport(report.id, action, options);
      setError("");
      onDone(t("moderation.done", { action: t(`moderation.action.${action}`), name: report.member.name }));
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }
  const open = report.status === "open";
  const title = `report-${report.id}-title`;
  return html`<li class="report-item" data-report=${report.id} aria-labelledby=${title}>
    <h4 id=${title}>${t(`report.reason.${report.reason}`)} · <a href=${`#/moderation/member/${report.member.id}`}>${report.member.name}</a></h4>
    <p class="muted">${t("moderation.reported_by", { name: report.reporter.name })} · <time datetime=${report.created_at}>${formatTime(report.created_at)}</time>
      ${report.message_id
        ? html` · <a href=${`#/room/${report.room}/message/${report.message_id}`}>${t("moderation.the_message", { room: roomName(report.room) })}</a>`
        : html` · ${t("moderation.about_member")}`}</p>
    ${report.message && html`<${ReportedMessage} message=${report.message} />`}
    ${report.note && html`<p class="report-note">${report.note}</p>`}
    ${open
      ? html`<button type="button" disabled=${busy} onClick=${() => act("dismiss")}>${t("moderation.action.dismiss")}</button>
        <${Actions} id=${`report-${report.id}`} canRemove=${Boolean(report.message_id)} canMute=${Boolean(report.room)}
          onAct=${act} busy=${busy} />`
      : html`<p class="resolution">${report.status === "dismissed" ? t("moderation.dismissed")
        : t("moderation.resolved", { action: t(`moderation.action.${report.resolution}`) })}</p>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </li>`;
}

function Queue() {
  const [which, setWhich] = useState("open");
  const [page, setPage] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  async function load(cursor) {
    try {
      const next = await loadQueue(which, cursor);
      setPage((known) => (cursor && known ? { ...next, reports: [...known.reports, ...next.reports] } : next));
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  useEffect(() => { setPage(null); load(null); }, [which]);
  const acted = (text) => { setDone(text); load(null); };
  return html`<section class="mod-queue" aria-labelledby="queue-title">
    <h3 id="queue-title">${t("moderation.queue")}${page ? ` (${t("moderation.open_count", { count: page.open })})` : ""}</h3>
    <div class="tabs" role="group" aria-label=${t("moderation.queue")}>
      ${["open", "closed"].map((w) => html`<button type="button" aria-pressed=${which === w ? "true" : "false"}
        onClick=${() => setWhich(w)}>${t(`moderation.${w}`)}</button>`)}
    </div>
    <p role="status" class="notice">${done}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${page && (page.reports.length
      ? html`<ol class="report-list">${page.reports.map((r) => html`<${ReportItem} key=${r.id} report=${r} onDone=${acted} />`)}</ol>`
      : html`<p class="muted">${t(which === "open" ? "moderation.empty" : "moderation.empty_closed")}</p>`)}
    ${page?.next && html`<button type="button" onClick=${() => load(page.next)}>${t("admin.load_more")}</button>`}
  </section>`;
}

function sanctionText(s) {
  const parts = [t(`moderation.action.${s.kind}`)];
  if (s.room) parts.push(roomName(s.room));
  if (s.until) parts.push(t("moderation.until", { time: formatTime(s.until) }));
  if (s.lifted_at) parts.push(t("moderation.lifted"));
  else if (s.in_force) parts.push(t("moderation.in_force"));
  return parts.join(" · ");
}

function MemberRecord({ user }) {
  const [record, setRecord] = useState(null);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const [room, setRoom] = useState(state.rooms[0]?.id || "");
  async function load() {
    try {
      setRecord(await loadRecord(user));
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  useEffect(() => { load(); }, [user]);
  async function act(action, options = {}) {
    setBusy(true);
    try {
      await actOnMember(user, action, { ...options, room: action.endsWith("mute") ? (options.room || room) : undefined });
      setDone(t("moderation.done", { action: t(`moderation.action.${action}`), name: record.member.name }));
      setError("");
      await load();
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }
  const inForce = (kind) => record?.sanctions.filter((s) => s.kind === kind && s.in_force) || [];
  return html`<section class="mod-record" aria-labelledby="record-title">
    <p><a href="#/moderation">${t("moderation.back")}</a></p>
    <h3 id="record-title">${record ? t("moderation.record_of", { name: record.member.name }) : t("room.loading")}</h3>
    <p role="status" class="notice">${done}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${record && html`
      <div class="field"><label for="record-room">${t("moderation.mute_room")}</label>
        <select id="record-room" value=${room} onChange=${(e) => setRoom(e.target.value)}>
          ${state.rooms.filter((r) => r.kind !== "direct").map((r) => html`<option value=${r.id}>${roomTitle(r)}</option>`)}
        </select></div>
      <${Actions} id="record" canRemove=${false} canMute=${true} onAct=${act} busy=${busy} />
      <div class="lifts">
        ${inForce("mute").map((s) => html`<button type="button" disabled=${busy} onClick=${() => act("unmute", { room: s.room })}>
          ${t("moderation.action.unmute")} · ${roomName(s.room)}</button>`)}
        ${inForce("suspend").length > 0 && html`<button type="button" disabled=${busy} onClick=${() => act("unsuspend")}>${t("moderation.action.unsuspend")}</button>`}
        ${inForce("ban").length > 0 && html`<button type="button" disabled=${busy} onClick=${() => act("unban")}>${t("moderation.action.unban")}</button>`}
      </div>
      <h4>${t("moderation.sanctions")}</h4>
      ${record.sanctions.length
        ? html`<ul class="sanctions">${record.sanctions.map((s) => html`<li data-kind=${s.kind}>
            <time datetime=${s.created_at}>${formatTime(s.created_at)}</time> ${sanctionText(s)}${s.reason ? ` — ${s.reason}` : ""}</li>`)}</ul>`
        : html`<p class="muted">${t("moderation.none")}</p>`}
      <h4>${t("moderation.reports_about")}</h4>
      ${record.reports.length
        ? html`<ul class="reports-about">${record.reports.map((r) => html`<li>
            <time datetime=${r.created_at}>${formatTime(r.created_at)}</time> ${t(`report.reason.${r.reason}`)} · ${t("moderation.reported_by", { name: r.reporter.name })} · ${t(`moderation.status.${r.status}`)}</li>`)}</ul>`
        : html`<p class="muted">${t("moderation.none")}</p>`}`}
  </section>`;
}

function Moderation({ user }) {
  if (!isModerator()) {
    return html`<section class="moderation-page" aria-labelledby="moderation-title"><h2 id="moderation-title">${t("moderation.title")}</h2>
      <p>${t("moderation.only")}</p></section>`;
  }
  return html`<section class="moderation-page" aria-labelledby="moderation-title">
    <h2 id="moderation-title">${t("moderation.title")}</h2>
    ${user ? html`<${MemberRecord} user=${Number(user)} />` : html`<${Queue} />`}
  </section>`;
}

// A moderator's warning or mute of this member, until they dismiss it (main.js draws it).
export function ModerationNotice() {
  const notice = state.moderationNotice;
  if (!notice || !["warn", "mute"].includes(notice.kind)) return null;
  const text = notice.kind === "warn" ? t("moderation.notice_warn")
    : t("moderation.notice_mute", { room: roomName(notice.room), time: formatTime(notice.until) });
  return html`<div class="moderation-notice" role="alert">
    <p>${text}${notice.reason ? ` — ${notice.reason}` : ""}</p>
    <button type="button" onClick=${dismissNotice}>${t("card.close")}</button>
  </div>`;
}

registerView({ name: "moderation", pattern: "/moderation", component: Moderation });
registerView({ name: "moderation-member", pattern: "/moderation/member/:user", component: Moderation });
