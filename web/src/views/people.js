// People as others see them: an initials avatar (drawn here: no image from anywhere), a name
// that opens the member's profile card, and the card itself, a modal dialog (<dialog>: focus
// moves into it, Escape closes it, focus returns to the name that opened it).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { localTime } from "../format.js";
import { state } from "../state.js";
import { setBlocked } from "../subjects/blocks.js";
import { startDirect } from "../subjects/conversations.js";
import { errorMessage, t } from "../subjects/language.js";
import { closeProfileCard, openProfileCard } from "../subjects/people.js";
import { roomTitle } from "../subjects/rooms.js";
import { isModerator } from "../subjects/moderation.js";
import { ReportDialog } from "./report.js";

const HUES = 8; // .avatar.hue-0 … hue-7 in app.css

// A Chinese name's first character (the surname); else the first letters of two words.
export function initials(name) {
  const text = (name || "").trim();
  if (!text) return "?";
  if (/^\p{Script=Han}/u.test(text)) return [...text][0];
  return text.split(/\s+/).slice(0, 2).map((word) => [...word][0].toUpperCase()).join("");
}

export function Avatar({ id, name }) {
  return html`<span class=${`avatar hue-${Math.abs(Number(id) || 0) % HUES}`} aria-hidden="true">${initials(name)}</span>`;
}

let opener = null; // the name that opened the card: focus goes back to it

export function PersonName({ id, name }) {
  // A deleted account's name is "" (the server marks it `deleted`): no profile to open.
  if (name === "") return html`<span class="person deleted-member">${t("person.deleted")}</span>`;
  // A guest sees names only: the platform's profiles are members' (the server refuses them).
  if (state.user?.guest) return html`<span class="person">${name}</span>`;
  const open = (event) => {
    opener = event.currentTarget;
    openProfileCard(id);
  };
  return html`<button type="button" class="person" aria-haspopup="dialog" onClick=${open}>${name}</button>`;
}

function Details({ member }) {
  const local = localTime(member.time_zone);
  const sectors = member.sectors.map((id) => state.rooms.find((r) => r.id === id))
    .filter(Boolean).map(roomTitle);
  const rows = [
    [t("card.organisation"), member.organisation],
    [t("card.city"), [member.city, member.country].filter(Boolean).join(", ")],
    [t("card.local_time"), local && `${local.time} (${local.zone})`],
    [t("card.languages"), member.languages.join(", ")],
    [t("card.sectors"), sectors.join(", ")],
  ].filter(([, value]) => value);
  return html`<dl class="card-facts">
    ${rows.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}
  </dl>
  ${member.bio && html`<p class="card-bio">${member.bio}</p>`}`;
}

export function ProfileCard() {
  const dialog = useRef(null);
  const [reporting, setReporting] = useState(null);
  const card = state.card;
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (card && !el.open) el.showModal();
    if (!card && el.open) el.close();
  }, [card]);
  function closed() {
    closeProfileCard();
    if (opener?.isConnected) opener.focus();
    opener = null;
  }
  async function message(member) {
    const room = await startDirect(member.id, member.display_name).catch(() => null);
    closeProfileCard();
    if (room) location.hash = `#/room/${room}`;
  }
  const member = card?.member;
  return html`<dialog ref=${dialog} class="profile-card" aria-labelledby="card-name" onClose=${closed}>
    ${card && html`<div class="card-head">
        ${member && html`<${Avatar} id=${member.id} name=${member.display_name} />`}
        <h2 id="card-name">${member ? member.display_name : t("room.loading")}</h2>
        ${member?.alt_name && html`<span class="muted alt-name">${member.alt_name}</span>`}
      </div>
      ${card.error && html`<p role="alert" class="error">${t("error.generic", { message: errorMessage(card.error) })}</p>`}
      ${member && html`<p class="muted">${t(`aff.${member.affiliation || "other"}`)}</p><${Details} member=${member} />`}
      ${member && state.blocked.has(member.id) && html`<p class="muted">${t("block.blocked_note")}</p>`}
      <div class="card-actions">
        ${member && member.id !== state.user.id && !state.blocked.has(member.id) && html`<button type="button" onClick=${() => message(member)}>${t("card.message")}</button>`}
        ${member && member.id !== state.user.id && html`<button type="button" class="report" onClick=${() => setReporting(member)}>${t("report.member_action")}</button>`}
        ${member && member.id !== state.user.id && isModerator() && html`<a href=${`#/moderation/member/${member.id}`}
          onClick=${() => closeProfileCard()}>${t("moderation.record_link")}</a>`}
        ${member && member.id !== state.user.id && !member.guest && html`<button type="button" class="block"
          onClick=${() => setBlocked(member.id, !state.blocked.has(member.id)).catch(() => {})}>
          ${t(state.blocked.has(member.id) ? "block.unblock_name" : "block.block_name", { name: member.display_name })}</button>`}
        <button type="button" class="link" onClick=${() => dialog.current?.close()}>${t("card.close")}</button>
      </div>`}
    ${reporting && html`<${ReportDialog} target=${{ member: reporting.id }} name=${reporting.display_name}
      onClose=${() => setReporting(null)} />`}
  </dialog>`;
}
