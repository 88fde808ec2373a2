// The connection badge in the header: connecting, connected (over the WebSocket, or over the
// HTTP fallback when a proxy blocks WebSockets: socket.js), or offline and reconnecting.
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";

export function ConnectionBadge() {
  const fallback = state.conn === "online" && state.connVia === "http";
  const key = fallback ? "conn.fallback" : `conn.${state.conn}`;
  return html`<p class=${`conn conn-${state.conn}${fallback ? " conn-fallback" : ""}`} role="status"
    data-state=${state.conn} data-via=${state.connVia}>${t(key)}</p>`;
}
