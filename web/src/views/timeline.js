// A line in a conversation's timeline for something that happened there besides messages:
// its consultation status changed, someone was added, left, declined, came back or was removed
// (data.events, kept by subjects/messages.js from live frames and history pages; the message
// list places each after the messages up to its `at` seq).
import { html } from "../html.js";
import { t } from "../subjects/language.js";

function text(event) {
  if (event.kind === "status") return t("timeline.status", { name: event.by, status: t(`status.${event.status}`) });
  return t(`timeline.${event.change}`, { name: event.user, by: event.by });
}

export function EventLine({ event }) {
  return html`<li key=${event.key} data-id=${event.key} class="event">${text(event)}</li>`;
}

// The events placed after a message with seq `from`, before the next one (seq `to`).
export function eventsBetween(events, from, to) {
  return (events || []).filter((e) => e.at >= from && e.at < to);
}
