// Profile edit: PATCH /api/v1/me/profile. The form keeps its own copy of the fields (controlled
// inputs), so live frames re-rendering the page never undo what the member is typing.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { loadProfile, saveProfile } from "../subjects/session.js";
import { AFFILIATIONS } from "./directory.js";

const TEXT_FIELDS = [
  ["display_name", "auth.name", 64], ["alt_name", "profile.alt_name", 64], ["organisation", "profile.organisation", 128],
  ["country", "profile.country", 2], ["city", "profile.city", 64],
  ["languages", "profile.languages", 200], ["time_zone", "profile.time_zone", 64],
];

function fromProfile(profile) {
  return { ...profile, languages: (profile.languages || []).join(", "), sectors: profile.sectors || [] };
}

function Profile() {
  const [form, setForm] = useState(null); // the form shows once the current profile is here
  const [message, setMessage] = useState("");
  useEffect(() => { // the profile may have changed elsewhere (another tab, another device)
    loadProfile().then((profile) => setForm(fromProfile(profile)));
  }, []);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });
  function toggleSector(id) {
    const sectors = form.sectors.includes(id) ? form.sectors.filter((s) => s !== id) : [...form.sectors, id];
    setForm({ ...form, sectors });
  }
  async function submit(event) {
    event.preventDefault();
    const body = {
      display_name: form.display_name, affiliation: form.affiliation, organisation: form.organisation || "",
      country: form.country || "", city: form.city || "", time_zone: form.time_zone || "", alt_name: form.alt_name || "",
      bio: form.bio || "", sectors: form.sectors,
      languages: String(form.languages || "").split(",").map((s) => s.trim()).filter(Boolean),
    };
    try {
      setForm(fromProfile(await saveProfile(body)));
      setMessage(t("profile.saved"));
    } catch (err) {
      setMessage(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const sectors = state.rooms.filter((r) => r.kind === "sector");
  if (!form) return html`<section class="profile" aria-labelledby="profile-title"><h2 id="profile-title">${t("profile.title")}</h2></section>`;
  return html`<section class="profile" aria-labelledby="profile-title">
    <h2 id="profile-title">${t("profile.title")}</h2>
    <form onSubmit=${submit}>
      ${TEXT_FIELDS.map(([key, label, max]) => html`<label>${t(label)}
        <input name=${key} value=${form[key] || ""} maxlength=${max} required=${key === "display_name"} onInput=${set(key)} /></label>`)}
      <div class="field"><label for="profile-affiliation">${t("dir.affiliation")}</label><select id="profile-affiliation" name="affiliation" value=${form.affiliation || "other"} onChange=${set("affiliation")}>
        ${AFFILIATIONS.map((a) => html`<option value=${a}>${t(`aff.${a}`)}</option>`)}
      </select></div>
      <fieldset><legend>${t("profile.sectors")}</legend>
        ${sectors.map((r) => html`<label class="check"><input type="checkbox" name="sectors" value=${r.id}
          checked=${form.sectors.includes(r.id)} onChange=${() => toggleSector(r.id)} /> ${roomTitle(r)}</label>`)}
      </fieldset>
      <label>${t("profile.bio")}<textarea name="bio" rows="4" maxlength="1000" value=${form.bio || ""} onInput=${set("bio")}></textarea></label>
      <button type="submit">${t("profile.save")}</button>
      ${message && html`<p role="status">${message}</p>`}
    </form>
  </section>`;
}

registerView({ name: "profile", pattern: "/profile", component: Profile });
