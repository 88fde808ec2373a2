// The webinars view (upcoming, live, past) and what the webinar page and a listing room's side
// panel share with it: a webinar's times in the viewer's zone and the host's, its state badge,
// registration and the "add to calendar" link. Moderators and admins schedule from here.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { formatSpan, myZone } from "../format.js";
import { zoneName } from "../zones.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import {
  calendarLink, listed, loadRoomWebinars, loadWebinars, mayPlan, setRegistered, WHEN, webinarsIn, webinarTitle,
} from "../subjects/webinars.js";
import { WebinarForm } from "./webinarform.js";

// When it is, in the viewer's zone and (when it differs) the host's, each named by its city.
export function WebinarTimes({ webinar }) {
  const mine = myZone();
  const host = webinar.time_zone || "UTC";
  const same = formatSpan(webinar.starts_at, webinar.ends_at, mine) === formatSpan(webinar.starts_at, webinar.ends_at, host);
  return html`<p class="webinar-times">
    <span class="when-mine">${formatSpan(webinar.starts_at, webinar.ends_at, mine)} <span class="muted">(${zoneName(mine, state.lang)})</span></span>
    ${!same && html`<span class="when-host">${t("webinar.host_time", {
      time: formatSpan(webinar.starts_at, webinar.ends_at, host), zone: zoneName(host, state.lang) })}</span>`}
  </p>`;
}

export function StateBadge({ webinar }) {
  const slow = webinar.state === "live" && webinar.chat?.mode === "slow";
  return html`<span class=${`tag webinar-state state-${webinar.state}`}>${t(`webinar.state.${webinar.state}`)}</span>${
    slow ? html` <span class="tag">${t("webinar.chat_slow_badge", { n: webinar.chat.slow_s })}</span>` : null}`;
}

// Register or unregister (for notifications: going live, edits, cancellation).
export function RegisterButton({ webinar }) {
  const [error, setError] = useState("");
  // (a guest has no registrations: they came through the link)
  if (webinar.state === "ended" || webinar.state === "cancelled" || state.user?.guest) return null;
  const title = webinarTitle(webinar);
  async function toggle() {
    try {
      await setRegistered(webinar.id, !webinar.registered);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`<span class="register">
    <button type="button" class=${webinar.registered ? "link" : undefined} aria-pressed=${webinar.registered ? "true" : "false"}
      aria-label=${t(webinar.registered ? "webinar.unregister_named" : "webinar.register_named", { title })} onClick=${toggle}>
      ${t(webinar.registered ? "webinar.unregister" : "webinar.register")}</button>
    ${webinar.registered && html` <span class="muted">${t("webinar.registered")}</span>`}
    ${error && html`<span role="alert" class="error">${error}</span>`}
  </span>`;
}

export function CalendarLink({ webinar }) {
  if (webinar.state === "ended") return null;
  return html`<a class="calendar" href=${calendarLink(webinar.id)} download=${`webinar-${webinar.id.slice(8)}.ics`}
    aria-label=${t("webinar.calendar_named", { title: webinarTitle(webinar) })}>${t("webinar.calendar")}</a>`;
}

function Card({ webinar }) {
  const title = webinarTitle(webinar);
  return html`<li class="webinar-card" data-id=${webinar.id}><article aria-label=${title}>
    <h3><a href=${`#/webinar/${webinar.id}`}>${title}</a> <${StateBadge} webinar=${webinar} /></h3>
    <${WebinarTimes} webinar=${webinar} />
    <p class="muted">${`${t("webinar.hosted_by", { names: webinar.hosts.map((h) => h.name).join(", ") })} · ${
      t("webinar.registrations", { count: webinar.registrations })}`}</p>
    <div class="webinar-actions"><${RegisterButton} webinar=${webinar} /> <${CalendarLink} webinar=${webinar} /></div>
  </article></li>`;
}

function Webinars() {
  const [when, setWhen] = useState("upcoming");
  const [error, setError] = useState("");
  const [planning, setPlanning] = useState(false);
  useEffect(() => {
    loadWebinars(when).then(() => setError("")).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [when]);
  const list = listed(when);
  return html`<section class="webinars" aria-labelledby="webinars-title">
    <h2 id="webinars-title">${t("webinar.title")}</h2>
    ${mayPlan() && (planning
      ? html`<${WebinarForm} onDone=${(webinar) => { setPlanning(false); if (webinar) location.hash = `#/webinar/${webinar.id}`; }} />`
      : html`<button type="button" class="plan" onClick=${() => setPlanning(true)}>${t("webinar.schedule")}</button>`)}
    <div class="webinar-tabs" role="group" aria-label=${t("webinar.show")}>
      ${WHEN.map((w) => html`<button type="button" class=${when === w ? undefined : "link"} aria-pressed=${when === w ? "true" : "false"}
        onClick=${() => setWhen(w)}>${t(`webinar.when.${w}`)}</button>`)}
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${list && !list.items.length && html`<p class="muted">${t(`webinar.none.${when}`)}</p>`}
    ${list && list.items.length > 0 && html`<ul class="feed webinar-list" aria-label=${t(`webinar.when.${when}`)}>
      ${list.items.map((w) => html`<${Card} key=${w.id} webinar=${w} />`)}</ul>`}
    ${list?.next && html`<button type="button" class="link" onClick=${() => loadWebinars(when, true).catch(() => {})}>${t("webinar.more")}</button>`}
  </section>`;
}

registerView({ name: "webinars", pattern: "/webinars", component: Webinars });

// A sector or city room's upcoming and live webinars (its side panel).
export function RoomWebinars({ room }) {
  useEffect(() => { loadRoomWebinars(room).catch(() => {}); }, [room]);
  const items = webinarsIn(room);
  return html`<section class="threads room-webinars" aria-label=${t("webinar.in_room")}>
    <h3>${t("webinar.in_room")}</h3>
    ${items.length
      ? html`<ul>${items.map((w) => html`<li>
          <a href=${`#/webinar/${w.id}`}>${webinarTitle(w)}</a> <${StateBadge} webinar=${w} />
          <span class="muted"> · ${formatSpan(w.starts_at, w.ends_at)}</span>
        </li>`)}</ul>`
      : html`<p class="muted">${t("webinar.none.room")}</p>`}
    <a href="#/webinars">${t("webinar.all")}</a>
  </section>`;
}
