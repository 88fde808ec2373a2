// A line in a conversation's timeline for something that happened there besides messages:
// its consultation status changed, someone was added, left, declined, came back or was removed
// (data.events, kept by subjects/messages.js from live frames and history pages; the message
// list places each after the messages up to its `at` seq).
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";

function text(event) {
  if (event.kind === "webinar") return webinarText(event);
  if (event.kind === "status") return t("timeline.status", { name: event.by, status: t(`status.${event.status}`) });
  return t(`timeline.${event.change}`, { name: event.user, by: event.by });
}

// A webinar's change, in its own room ("The webinar is live") or in a room listing it ("Webinar
// scheduled: Green roofs").
function webinarText(event) {
  const title = event.title?.[state.lang] || event.title?.[state.lang === "zh" ? "en" : "zh"] || "";
  if (event.listing) return t(`timeline.webinar_listed.${event.change}`, { title, name: event.by });
  if (event.change === "chat") return t(`timeline.webinar.chat_${event.mode}`, { name: event.by, n: event.slow_s });
  if (event.change === "ended" && event.auto) return t("timeline.webinar.ended_auto");
  return t(`timeline.webinar.${event.change}`, { name: event.by, title });
}

export function EventLine({ event }) {
  return html`<li key=${event.key} data-id=${event.key} class="event">${text(event)}</li>`;
}

// The events placed after a message with seq `from`, before the next one (seq `to`).
export function eventsBetween(events, from, to) {
  return (events || []).filter((e) => e.at >= from && e.at < to);
}
