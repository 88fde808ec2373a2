// The first-visit welcome above the view: what the platform is, what each sector and city room
// is for (its description, in the reader's language; each a link to the room), a nudge to fill
// in the profile. Dismissed once, per member (subjects/welcome.js).
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { roomDescription, roomTitle } from "../subjects/rooms.js";
import { dismissWelcome, welcomeDue } from "../subjects/welcome.js";

function RoomGuide({ kind, intro }) {
  const rooms = state.rooms.filter((r) => r.kind === kind);
  if (!rooms.length) return null;
  return html`<h3 id=${`welcome-${kind}`}>${t(intro)}</h3>
    <dl class="room-guide" aria-labelledby=${`welcome-${kind}`}>
      ${rooms.map((room) => html`<div key=${room.id}>
        <dt><a href=${`#/room/${room.id}`}>${roomTitle(room)}</a></dt>
        <dd>${roomDescription(room)}</dd>
      </div>`)}
    </dl>`;
}

export function Welcome() {
  if (!welcomeDue()) return null;
  return html`<section class="welcome" aria-labelledby="welcome-title">
    <h2 id="welcome-title">${t("welcome.title")}</h2>
    <p>${t("welcome.what")}</p>
    <${RoomGuide} kind="sector" intro="welcome.sectors" />
    <${RoomGuide} kind="city" intro="welcome.cities" />
    <p>${t("welcome.profile")} <a href="#/profile">${t("welcome.profile_link")}</a></p>
    <button type="button" onClick=${dismissWelcome}>${t("welcome.dismiss")}</button>
  </section>`;
}
