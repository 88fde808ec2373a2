// The first-visit welcome above the view: what the platform is, what the sector and city rooms
// are for, a nudge to fill in the profile. Dismissed once, per member (subjects/welcome.js).
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { dismissWelcome, welcomeDue } from "../subjects/welcome.js";

export function Welcome() {
  if (!welcomeDue()) return null;
  const names = (kind) => state.rooms.filter((r) => r.kind === kind).map((r) => roomTitle(r)).join(t("form.list_sep"));
  return html`<section class="welcome" aria-labelledby="welcome-title">
    <h2 id="welcome-title">${t("welcome.title")}</h2>
    <p>${t("welcome.what")}</p>
    <p>${t("welcome.sectors", { rooms: names("sector") })}</p>
    <p>${t("welcome.cities", { rooms: names("city") })}</p>
    <p>${t("welcome.profile")} <a href="#/profile">${t("welcome.profile_link")}</a></p>
    <button type="button" onClick=${dismissWelcome}>${t("welcome.dismiss")}</button>
  </section>`;
}
