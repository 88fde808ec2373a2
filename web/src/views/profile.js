// Profile edit: PATCH /api/v1/me/profile. The form keeps its own copy of the fields (controlled
// inputs), so live frames re-rendering the page never undo what the member is typing.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { loadProfile, saveProfile } from "../subjects/session.js";
import { AFFILIATIONS } from "./directory.js";
import { COMMON_LANGUAGES, countryChoices, languageName } from "../pickers.js";
import { ZoneSelect } from "./zonepicker.js";
import { DownloadStatus, useDownload } from "./exportdialog.js";
import { personalPath } from "../subjects/exports.js";

const TEXT_FIELDS = [
  ["display_name", "auth.name", 64], ["alt_name", "profile.alt_name", 64], ["organisation", "profile.organisation", 128],
  ["city", "profile.city", 64],
];
const FIELD_ORDER = ["display_name", "alt_name", "organisation", "city", "country", "time_zone", "languages", "affiliation", "sectors", "bio"];

function fromProfile(profile) {
  return { ...profile, languages: profile.languages || [], sectors: profile.sectors || [] };
}

// The attributes tying a field to the problem the server found in it (shown beside it).
const invalid = (errors, key) => errors[key]
  ? { "aria-invalid": "true", "aria-describedby": `profile-${key}-error` } : {};

function FieldError({ errors, name }) {
  if (!errors[name]) return null;
  return html`<p class="field-error" id=${`profile-${name}-error`}>${t("form.field_error", { field: t(`form.field.${name}`), problem: errors[name] })}</p>`;
}

// "Download my data": one zip of everything the server holds about this member (GET /api/v1/me/export).
function MyData() {
  const download = useDownload();
  return html`<section class="my-data" aria-labelledby="my-data-title">
    <h3 id="my-data-title">${t("mydata.title")}</h3>
    <p id="my-data-what">${t("mydata.what")}</p>
    <button type="button" aria-describedby="my-data-what" aria-disabled=${download.busy ? "true" : undefined}
      onClick=${() => !download.busy && download.run(personalPath(state.lang))}>${t("mydata.download")}</button>
    <${DownloadStatus} download=${download} id="my-data" />
  </section>`;
}

function Profile() {
  const [form, setForm] = useState(null); // the form shows once the current profile is here
  const [message, setMessage] = useState("");
  const [errors, setErrors] = useState({}); // field -> the server's problem with it (422 details)
  const formRef = useRef(null);
  useEffect(() => { // the first invalid field takes the focus, so the keyboard lands on it
    const first = FIELD_ORDER.find((key) => errors[key]);
    const field = first && formRef.current?.querySelector(`[name="${first}"]`);
    if (field) { field.focus(); field.scrollIntoView({ block: "center" }); }
  }, [errors]);
  useEffect(() => { // the profile may have changed elsewhere (another tab, another device)
    loadProfile().then((profile) => setForm(fromProfile(profile)));
  }, []);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });
  function toggleSector(id) {
    const sectors = form.sectors.includes(id) ? form.sectors.filter((s) => s !== id) : [...form.sectors, id];
    setForm({ ...form, sectors });
  }
  function toggleLanguage(tag) {
    const languages = form.languages.includes(tag) ? form.languages.filter((l) => l !== tag) : [...form.languages, tag];
    setForm({ ...form, languages });
  }
  async function submit(event) {
    event.preventDefault();
    const body = {
      display_name: form.display_name, affiliation: form.affiliation, organisation: form.organisation || "",
      country: form.country || "", city: form.city || "", time_zone: form.time_zone || "", alt_name: form.alt_name || "",
      bio: form.bio || "", sectors: form.sectors,
      languages: form.languages,
    };
    try {
      setForm(fromProfile(await saveProfile(body)));
      setErrors({});
      setMessage(t("profile.saved"));
    } catch (err) {
      const details = err.details && typeof err.details === "object" ? err.details : {};
      const named = FIELD_ORDER.filter((key) => details[key]);
      setErrors(details);
      setMessage(named.length
        ? t("form.fix_fields", { fields: named.map((key) => t(`form.field.${key}`)).join(t("form.list_sep")) })
        : t("error.generic", { message: errorMessage(err) }));
    }
  }
  const sectors = state.rooms.filter((r) => r.kind === "sector");
  if (!form) return html`<section class="profile" aria-labelledby="profile-title"><h2 id="profile-title">${t("profile.title")}</h2></section>`;
  return html`<section class="profile" aria-labelledby="profile-title">
    <h2 id="profile-title">${t("profile.title")}</h2>
    <form onSubmit=${submit} ref=${formRef} novalidate>
      ${TEXT_FIELDS.map(([key, label, max]) => html`<div class="field"><label for=${`profile-${key}`}>${t(label)}</label>
        <input id=${`profile-${key}`} name=${key} value=${form[key] || ""} maxlength=${max} required=${key === "display_name"}
          onInput=${set(key)} ...${invalid(errors, key)} /><${FieldError} errors=${errors} name=${key} /></div>`)}
      <div class="field"><label for="profile-country">${t("profile.country")}</label>
        <select id="profile-country" name="country" value=${form.country || ""} onChange=${set("country")} ...${invalid(errors, "country")}>
          <option value="">${t("profile.none")}</option>
          ${countryChoices(state.lang).map(([code, name]) => html`<option value=${code}>${name}</option>`)}
        </select><${FieldError} errors=${errors} name="country" /></div>
      <div class="field"><label for="profile-time_zone">${t("profile.time_zone")}</label>
        <${ZoneSelect} id="profile-time_zone" name="time_zone" value=${form.time_zone} none=${t("profile.none")}
          onChange=${set("time_zone")} ...${invalid(errors, "time_zone")} /><${FieldError} errors=${errors} name="time_zone" /></div>
      <fieldset ...${invalid(errors, "languages")}><legend>${t("profile.languages")}</legend>
        ${[...COMMON_LANGUAGES, ...form.languages.filter((l) => !COMMON_LANGUAGES.includes(l))].map((tag) => html`<label class="check"><input type="checkbox" name="languages" value=${tag}
          checked=${form.languages.includes(tag)} onChange=${() => toggleLanguage(tag)} /> ${languageName(state.lang, tag)}</label>`)}
        <${FieldError} errors=${errors} name="languages" />
      </fieldset>
      <div class="field"><label for="profile-affiliation">${t("dir.affiliation")}</label><select id="profile-affiliation" name="affiliation" value=${form.affiliation || "other"} onChange=${set("affiliation")} ...${invalid(errors, "affiliation")}>
        ${AFFILIATIONS.map((a) => html`<option value=${a}>${t(`aff.${a}`)}</option>`)}
      </select><${FieldError} errors=${errors} name="affiliation" /></div>
      <fieldset ...${invalid(errors, "sectors")}><legend>${t("profile.sectors")}</legend>
        ${sectors.map((r) => html`<label class="check"><input type="checkbox" name="sectors" value=${r.id}
          checked=${form.sectors.includes(r.id)} onChange=${() => toggleSector(r.id)} /> ${roomTitle(r)}</label>`)}
        <${FieldError} errors=${errors} name="sectors" />
      </fieldset>
      <div class="field"><label for="profile-bio">${t("profile.bio")}</label><textarea id="profile-bio" name="bio" rows="4" maxlength="1000"
        value=${form.bio || ""} onInput=${set("bio")} ...${invalid(errors, "bio")}></textarea><${FieldError} errors=${errors} name="bio" /></div>
      <button type="submit">${t("profile.save")}</button>
      ${message && html`<p role="status">${message}</p>`}
    </form>
    <${MyData} />
  </section>`;
}

registerView({ name: "profile", pattern: "/profile", component: Profile });
