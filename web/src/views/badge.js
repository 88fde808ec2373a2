// The role badge beside a staff member's name (moderator, admin): staff names are reserved
// by the server, and this marks the real ones. Members get none.
import { html } from "../html.js";
import { t } from "../subjects/language.js";

export function RoleBadge({ role }) {
  if (role !== "admin" && role !== "moderator") return null;
  return html`<span class=${`role-badge role-${role}`}>${t(`role.${role}`)}</span>`;
}
