// Account section "Where you are signed in" (order 30): the member's sessions (this one marked;
// when, last active, browser, address), each with "End", and "End all other sessions". Ended
// sessions' pages sign out at once, on whichever node they are connected to.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { endOtherSessions, endSession, loadSessions } from "../subjects/account.js";
import { formatTime } from "../format.js";
import { registerAccountSection } from "./account.js";

// "Firefox on Linux" from a User-Agent, or null.
export function deviceName(agent) {
  if (!agent) return null;
  const browser = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"],
    ["Safari/", "Safari"]].find(([mark]) => agent.includes(mark))?.[1];
  const system = [["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iPadOS"], ["Windows", "Windows"],
    ["Mac OS X", "macOS"], ["Linux", "Linux"]].find(([mark]) => agent.includes(mark))?.[1];
  if (browser && system) return `${browser} · ${system}`;
  return browser || system || agent.slice(0, 40);
}

function SessionsSection() {
  const [sessions, setSessions] = useState(null);
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const reload = () => loadSessions().then(setSessions, (err) => setError(t("recovery.failed", { message: errorMessage(err) })));
  useEffect(() => { reload(); }, []);
  async function act(action) {
    try {
      await action();
      setError("");
      await reload();
    } catch (err) {
      setError(t("recovery.failed", { message: errorMessage(err) }));
    }
  }
  const others = (sessions || []).filter((s) => !s.current);
  return html`<h3 id="account-sessions-title">${t("account.sessions.title")}</h3>
    <p>${t("account.sessions.intro")}</p>
    ${sessions === null && !error && html`<p role="status">${t("account.sessions.loading")}</p>`}
    ${sessions && html`<ul class="sessions" aria-labelledby="account-sessions-title">
      ${sessions.map((s) => {
        const device = deviceName(s.user_agent) || t("account.sessions.unknown_device");
        return html`<li key=${s.id} class=${s.current ? "session current" : "session"}>
          <strong>${device}</strong>${s.current && html` <span class="tag ok">${t("account.sessions.this")}</span>`}
          <span class="session-meta">
            ${s.created_at && html`<span>${t("account.sessions.created", { when: formatTime(s.created_at) })}</span>`}
            ${s.last_seen_at && html`<span>${t("account.sessions.seen", { when: formatTime(s.last_seen_at) })}</span>`}
            ${s.address && html`<span>${t("account.sessions.address", { address: s.address })}</span>`}
          </span>
          ${!s.current && html`<button type="button" aria-label=${t("account.sessions.end_label", { device })}
            onClick=${() => act(() => endSession(s.id))}>${t("account.sessions.end")}</button>`}
        </li>`;
      })}
    </ul>`}
    ${sessions && (others.length
      ? html`<button type="button" onClick=${() => act(async () => setNote(t("account.sessions.ended", { count: await endOtherSessions() })))}>${t("account.sessions.end_others")}</button>`
      : html`<p>${t("account.sessions.none_other")}</p>`)}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <p role="status" class="account-note">${note}</p>`;
}

registerAccountSection({ id: "sessions", order: 30, component: SessionsSection });
