// Scheduling a webinar, or editing one still scheduled (moderators, admins, its hosts): titles
// in both languages, description (Markdown), start and end as wall times in the viewer's zone,
// the host's zone (shown beside the viewer's everywhere), the rooms listing it, hosts and
// panelists picked from the member directory, the Q&A board's pre-moderation, guests. The
// server's problems show beside their fields; the first of them takes the focus.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { formatSpan, isoToWall, myZone, wallToIso } from "../format.js";
import { zoneName } from "../zones.js";
import { state } from "../state.js";
import { searchMembers } from "../subjects/directory.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { editWebinar, scheduleWebinar } from "../subjects/webinars.js";
import { ZoneSelect } from "./zonepicker.js";
import { AttachButton, UploadChips, useUploads } from "./attachments.js";

const FIELDS = ["title.en", "title.zh", "title", "description", "starts_at", "ends_at", "time_zone", "rooms", "hosts", "panelists"];
const fieldId = (key) => `webinar-${key.replace(".", "-")}`;

function initial(webinar) {
  const zone = myZone();
  if (webinar) {
    return {
      title_en: webinar.title.en, title_zh: webinar.title.zh, description: webinar.description || "",
      starts: isoToWall(webinar.starts_at, zone), ends: isoToWall(webinar.ends_at, zone), time_zone: webinar.time_zone,
      rooms: [...webinar.rooms], people: [...webinar.hosts.map((p) => ({ ...p, role: "host" })),
        ...webinar.panelists.map((p) => ({ ...p, role: "panelist" }))],
      premoderated: webinar.premoderated, guests_allowed: webinar.guests_allowed,
    };
  }
  return { title_en: "", title_zh: "", description: "", starts: "", ends: "", time_zone: zone, rooms: [], people: [],
           premoderated: false, guests_allowed: false };
}

function FieldError({ errors, name }) {
  if (!errors[name]) return null;
  return html`<p class="field-error" id=${`${fieldId(name)}-error`}>${t("form.field_error", { field: t(`webinar.field.${name}`), problem: errors[name] })}</p>`;
}

const marked = (errors, key) => errors[key] ? { "aria-invalid": "true", "aria-describedby": `${fieldId(key)}-error` } : {};

// Hosts and panelists: the directory searched as one types; each found member added as either.
function PeoplePicker({ people, onChange, errors }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState([]);
  useEffect(() => {
    if (!query.trim()) { setFound([]); return undefined; }
    let current = true; // late answers to earlier keystrokes are dropped
    const timer = setTimeout(() => {
      searchMembers({ q: query.trim(), limit: "8" }).then((m) => current && setFound(m)).catch(() => current && setFound([]));
    }, 150);
    return () => { current = false; clearTimeout(timer); };
  }, [query]);
  const chosen = new Set(people.map((p) => p.id));
  const add = (member, role) => { onChange([...people, { id: member.id, name: member.display_name, role }]); setQuery(""); };
  return html`<fieldset class="people" ...${marked(errors, "hosts")}><legend>${t("webinar.field.people")}</legend>
    ${people.length
      ? html`<ul class="chosen">${people.map((p) => html`<li>
          <span>${p.name}</span> <span class=${`tag role-${p.role}`}>${t(`webinar.role.${p.role}`)}</span>
          <button type="button" class="link" aria-label=${t("webinar.remove_person", { name: p.name })}
            onClick=${() => onChange(people.filter((q) => q.id !== p.id))}>${t("webinar.remove")}</button>
        </li>`)}</ul>`
      : html`<p class="muted">${t("webinar.people_default")}</p>`}
    <label for="webinar-people-q">${t("webinar.people_search")}</label>
    <input id="webinar-people-q" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} />
    ${found.length > 0 && html`<ul class="found">${found.filter((m) => !chosen.has(m.id)).map((m) => html`<li>
      <span>${m.display_name}${m.organisation ? ` · ${m.organisation}` : ""}</span>
      <button type="button" onClick=${() => add(m, "host")}>${t("webinar.add_host", { name: m.display_name })}</button>
      <button type="button" class="link" onClick=${() => add(m, "panelist")}>${t("webinar.add_panelist", { name: m.display_name })}</button>
    </li>`)}</ul>`}
    <${FieldError} errors=${errors} name="hosts" /><${FieldError} errors=${errors} name="panelists" />
  </fieldset>`;
}

// `webinar`: the one to edit (else a new one); `onDone(webinar | null)` when saved or cancelled.
export function WebinarForm({ webinar = null, onDone }) {
  const [form, setForm] = useState(() => initial(webinar));
  const [errors, setErrors] = useState({});
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  const uploads = useUploads(webinar?.attachments || []);
  const zone = myZone();
  useEffect(() => { formRef.current?.querySelector("input")?.focus(); }, []);
  useEffect(() => { // the first field with a problem takes the focus
    const first = FIELDS.find((key) => errors[key]);
    const field = first && formRef.current?.querySelector(`#${fieldId(first === "title" ? "title.en" : first === "panelists" ? "people-q" : first === "hosts" ? "people-q" : first)}`);
    if (field) { field.focus(); field.scrollIntoView({ block: "center" }); }
  }, [errors]);
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.type === "checkbox" ? event.target.checked : event.target.value });
  const toggleRoom = (id) => setForm({ ...form, rooms: form.rooms.includes(id) ? form.rooms.filter((r) => r !== id) : [...form.rooms, id] });

  async function submit(event) {
    event.preventDefault();
    const starts = wallToIso(form.starts, zone);
    const ends = wallToIso(form.ends, zone);
    const local = {};
    if (!starts) local.starts_at = t("webinar.problem.time");
    if (!ends) local.ends_at = t("webinar.problem.time");
    if (Object.keys(local).length) {
      setErrors(local);
      setMessage(t("form.fix_fields", { fields: Object.keys(local).map((k) => t(`webinar.field.${k}`)).join(t("form.list_sep")) }));
      return;
    }
    const fields = {
      title: { en: form.title_en.trim(), zh: form.title_zh.trim() }, description: form.description,
      starts_at: starts, ends_at: ends, time_zone: form.time_zone || "UTC", rooms: form.rooms,
      hosts: form.people.filter((p) => p.role === "host").map((p) => p.id),
      panelists: form.people.filter((p) => p.role === "panelist").map((p) => p.id),
      premoderated: form.premoderated, guests_allowed: form.guests_allowed,
    };
    if (!webinar && !fields.hosts.length) delete fields.hosts; // nobody named: whoever schedules it hosts it
    setBusy(true);
    try {
      const files = await uploads.settled(); // the description's files still uploading first
      if (files.some((item) => item.status === "failed")) return;
      if (webinar || files.length) fields.attachments = uploads.ids();
      const saved = webinar ? await editWebinar(webinar.id, fields) : await scheduleWebinar(fields);
      setErrors({});
      setMessage("");
      onDone(saved);
    } catch (err) {
      const details = err.details && typeof err.details === "object" ? err.details : {};
      const named = FIELDS.filter((key) => details[key]);
      setErrors(details);
      setMessage(named.length
        ? t("form.fix_fields", { fields: named.map((key) => t(`webinar.field.${key}`)).join(t("form.list_sep")) })
        : t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }

  const listing = state.rooms.filter((r) => r.kind === "sector" || r.kind === "city");
  const starts = wallToIso(form.starts, zone);
  const ends = wallToIso(form.ends, zone);
  const preview = starts && ends && form.time_zone && form.time_zone !== zone && Date.parse(ends) > Date.parse(starts)
    ? t("webinar.host_time", { time: formatSpan(starts, ends, form.time_zone), zone: zoneName(form.time_zone, state.lang) }) : "";
  const text = (key, label, max) => html`<div class="field"><label for=${fieldId(key)}>${t(label)}</label>
    <input id=${fieldId(key)} value=${form[key.replace(".", "_")]} maxlength=${max} onInput=${set(key.replace(".", "_"))}
      ...${marked(errors, errors[key] ? key : "title")} /><${FieldError} errors=${errors} name=${key} /></div>`;
  return html`<form class="webinar-form" ref=${formRef} onSubmit=${submit} novalidate
      aria-label=${t(webinar ? "webinar.edit" : "webinar.schedule")}>
    <h3>${t(webinar ? "webinar.edit" : "webinar.schedule")}</h3>
    ${text("title.en", "webinar.field.title.en", 200)}
    ${text("title.zh", "webinar.field.title.zh", 200)}
    <${FieldError} errors=${errors} name="title" />
    <div class="field"><label for="webinar-description">${t("webinar.field.description")}</label>
      <textarea id="webinar-description" rows="4" maxlength="20000" value=${form.description} onInput=${set("description")}
        ...${marked(errors, "description")}></textarea><${FieldError} errors=${errors} name="description" />
      <div class="attach-bar">
        <${AttachButton} uploads=${uploads} id="webinar-files" />
        <${UploadChips} uploads=${uploads} id="webinar-chips" />
      </div></div>
    <div class="field-row">
      <div class="field"><label for="webinar-starts_at">${t("webinar.field.starts_at_in", { zone: zoneName(zone, state.lang) })}</label>
        <input id="webinar-starts_at" type="datetime-local" value=${form.starts} onInput=${set("starts")} required
          ...${marked(errors, "starts_at")} /><${FieldError} errors=${errors} name="starts_at" /></div>
      <div class="field"><label for="webinar-ends_at">${t("webinar.field.ends_at_in", { zone: zoneName(zone, state.lang) })}</label>
        <input id="webinar-ends_at" type="datetime-local" value=${form.ends} onInput=${set("ends")} required
          ...${marked(errors, "ends_at")} /><${FieldError} errors=${errors} name="ends_at" /></div>
    </div>
    <div class="field"><label for="webinar-time_zone">${t("webinar.field.time_zone")}</label>
      <${ZoneSelect} id="webinar-time_zone" value=${form.time_zone} onChange=${set("time_zone")} ...${marked(errors, "time_zone")} />
      ${preview && html`<p class="muted" id="webinar-preview">${preview}</p>`}
      <${FieldError} errors=${errors} name="time_zone" /></div>
    <fieldset class="rooms-pick" ...${marked(errors, "rooms")}><legend>${t("webinar.field.rooms")}</legend>
      ${listing.map((r) => html`<label class="check"><input type="checkbox" value=${r.id} checked=${form.rooms.includes(r.id)}
        onChange=${() => toggleRoom(r.id)} /> ${roomTitle(r)}</label>`)}
      <${FieldError} errors=${errors} name="rooms" />
    </fieldset>
    <${PeoplePicker} people=${form.people} errors=${errors} onChange=${(people) => setForm({ ...form, people })} />
    <label class="check"><input type="checkbox" checked=${form.premoderated} onChange=${set("premoderated")} /> ${t("webinar.field.premoderated")}</label>
    <label class="check"><input type="checkbox" checked=${form.guests_allowed} onChange=${set("guests_allowed")} /> ${t("webinar.field.guests_allowed")}</label>
    ${message && html`<p role="alert" class="error">${message}</p>`}
    <div class="buttons">
      <button type="submit" disabled=${busy}>${t(webinar ? "webinar.save" : "webinar.schedule_submit")}</button>
      <button type="button" class="link" onClick=${() => onDone(null)}>${t("room.cancel")}</button>
    </div>
  </form>`;
}
