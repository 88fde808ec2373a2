// The role badge beside a staff member's name (moderator, admin): staff names are reserved
// by the server, and this marks the real ones. Members get none; guests get theirs.
import { html } from "../html.js";
import { t } from "../subjects/language.js";

// A webinar's guest (no account, through the webinar's link) is marked wherever they are shown.
export function GuestBadge({ person }) {
  if (!person?.guest) return null;
  return html`<span class="tag guest">${t("guest.badge")}</span>`;
}

export function RoleBadge({ role }) {
  if (role !== "admin" && role !== "moderator") return null;
  return html`<span class=${`role-badge role-${role}`}>${t(`role.${role}`)}</span>`;
}
