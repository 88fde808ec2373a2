// Creating a project (moderators, admins) or editing its page (its members too): names in both
// languages, city, sectors (at most four: the thread is listed in the city room and these),
// status, description, organisations (one a line), key figures (label, value, unit) and, for
// moderators, partner members picked from the member directory. The server's problems show
// beside the form; the first named field takes the focus.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { searchMembers } from "../subjects/directory.js";
import { errorMessage, t } from "../subjects/language.js";
import { createProject, editProject, mayCreate, STATUSES } from "../subjects/projects.js";
import { roomTitle } from "../subjects/rooms.js";

const MAX_SECTORS = 4;
const MAX_FIGURES = 20;

function initial(project) {
  if (project) {
    return {
      name_en: project.name.en, name_zh: project.name.zh, city: project.city, sectors: [...project.sectors],
      status: project.status, description: project.description, organisations: project.organisations.join("\n"),
      figures: project.figures.map((f) => ({ ...f, value: String(f.value) })), members: [...project.members],
    };
  }
  return { name_en: "", name_zh: "", city: "", sectors: [], status: "planned", description: "", organisations: "",
           figures: [], members: [] };
}

function MemberPicker({ members, onChange }) {
  const [query, setQuery] = useState("");
  const [found, setFound] = useState([]);
  useEffect(() => {
    if (!query.trim()) { setFound([]); return undefined; }
    let current = true;
    const timer = setTimeout(() => {
      searchMembers({ q: query.trim(), limit: "8" }).then((m) => current && setFound(m)).catch(() => current && setFound([]));
    }, 150);
    return () => { current = false; clearTimeout(timer); };
  }, [query]);
  const chosen = new Set(members.map((m) => m.id));
  return html`<fieldset class="people"><legend>${t("project.field.members")}</legend>
    ${members.length > 0 && html`<ul class="chosen">${members.map((m) => html`<li>
      <span>${m.name}</span>
      <button type="button" class="link" aria-label=${t("project.remove_member", { name: m.name })}
        onClick=${() => onChange(members.filter((x) => x.id !== m.id))}>${t("webinar.remove")}</button></li>`)}</ul>`}
    <label for="project-members-q">${t("project.members_search")}</label>
    <input id="project-members-q" type="search" value=${query} onInput=${(e) => setQuery(e.target.value)} />
    ${found.length > 0 && html`<ul class="found">${found.filter((m) => !chosen.has(m.id)).map((m) => html`<li>
      <span>${m.display_name}${m.organisation ? ` · ${m.organisation}` : ""}</span>
      <button type="button" onClick=${() => { onChange([...members, { id: m.id, name: m.display_name }]); setQuery(""); }}>
        ${t("project.add_member", { name: m.display_name })}</button></li>`)}</ul>`}
  </fieldset>`;
}

// `project`: the one to edit (else a new one); `onDone(project | null)` when saved or cancelled.
export function ProjectForm({ project = null, onDone }) {
  const [form, setForm] = useState(() => initial(project));
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const formRef = useRef(null);
  useEffect(() => { formRef.current?.querySelector("input")?.focus(); }, []);
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  const cities = state.rooms.filter((r) => r.kind === "city");
  const sectors = state.rooms.filter((r) => r.kind === "sector");

  function toggleSector(id) {
    const has = form.sectors.includes(id);
    setForm({ ...form, sectors: has ? form.sectors.filter((s) => s !== id) : [...form.sectors, id] });
  }
  function setFigure(index, key, value) {
    setForm({ ...form, figures: form.figures.map((f, i) => (i === index ? { ...f, [key]: value } : f)) });
  }

  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    const body = {
      name: { en: form.name_en, zh: form.name_zh }, city: form.city, sectors: form.sectors, status: form.status,
      description: form.description,
      organisations: form.organisations.split("\n").map((s) => s.trim()).filter(Boolean),
      // A value that is no number goes as typed: the server names the figure that is wrong.
      figures: form.figures.map((f) => {
        const n = Number(f.value);
        return { label_en: f.label_en, label_zh: f.label_zh, unit: f.unit,
                 value: f.value.trim() !== "" && Number.isFinite(n) ? n : f.value };
      }),
    };
    if (mayCreate()) body.members = form.members.map((m) => m.id);
    try {
      const saved = project ? await editProject(project.id, body) : await createProject(body);
      onDone(saved);
    } catch (err) {
      const details = err.details || {};
      const named = Object.keys(details);
      setMessage(named.length
        ? t("project.fix", { problems: named.map((key) => `${key}: ${details[key]}`).join("; ") })
        : t("error.generic", { message: errorMessage(err) }));
      document.getElementById("project-form-error")?.focus();
    } finally {
      setBusy(false);
    }
  }

  const title = t(project ? "project.edit" : "project.create");
  return html`<form class="project-form webinar-form" ref=${formRef} onSubmit=${submit} novalidate aria-label=${title}>
    <h3>${title}</h3>
    <div class="field"><label for="project-name-en">${t("project.field.name_en")}</label>
      <input id="project-name-en" value=${form.name_en} maxlength="200" onInput=${set("name_en")} /></div>
    <div class="field"><label for="project-name-zh">${t("project.field.name_zh")}</label>
      <input id="project-name-zh" value=${form.name_zh} maxlength="200" onInput=${set("name_zh")} /></div>
    <div class="field-row">
      <div class="field"><label for="project-city">${t("project.field.city")}</label>
        <select id="project-city" value=${form.city} onChange=${set("city")}>
          <option value="">${t("project.choose_city")}</option>
          ${cities.map((r) => html`<option value=${r.id} selected=${form.city === r.id}>${roomTitle(r)}</option>`)}
        </select></div>
      <div class="field"><label for="project-status">${t("project.field.status")}</label>
        <select id="project-status" value=${form.status} onChange=${set("status")}>
          ${STATUSES.map((s) => html`<option value=${s} selected=${form.status === s}>${t(`project.status.${s}`)}</option>`)}
        </select></div>
    </div>
    <fieldset class="rooms-pick"><legend>${t("project.field.sectors", { max: MAX_SECTORS })}</legend>
      ${sectors.map((r) => html`<label class="check"><input type="checkbox" value=${r.id} checked=${form.sectors.includes(r.id)}
        disabled=${!form.sectors.includes(r.id) && form.sectors.length >= MAX_SECTORS}
        onChange=${() => toggleSector(r.id)} /> ${roomTitle(r)}</label>`)}
    </fieldset>
    <div class="field"><label for="project-description">${t("project.field.description")}</label>
      <textarea id="project-description" rows="3" maxlength="4000" value=${form.description} onInput=${set("description")}></textarea></div>
    <div class="field"><label for="project-organisations">${t("project.field.organisations")}</label>
      <textarea id="project-organisations" rows="2" value=${form.organisations} onInput=${set("organisations")}></textarea></div>
    <fieldset class="figures-pick"><legend>${t("project.field.figures")}</legend>
      ${form.figures.map((f, i) => html`<div class="figure-row" key=${i}>
        <label>${t("project.figure.label_en")}<input value=${f.label_en} maxlength="100" onInput=${(e) => setFigure(i, "label_en", e.target.value)} /></label>
        <label>${t("project.figure.label_zh")}<input value=${f.label_zh} maxlength="100" onInput=${(e) => setFigure(i, "label_zh", e.target.value)} /></label>
        <label>${t("project.figure.value")}<input value=${f.value} inputmode="decimal" onInput=${(e) => setFigure(i, "value", e.target.value)} /></label>
        <label>${t("project.figure.unit")}<input value=${f.unit} maxlength="30" onInput=${(e) => setFigure(i, "unit", e.target.value)} /></label>
        <button type="button" class="link" onClick=${() => setForm({ ...form, figures: form.figures.filter((_, j) => j !== i) })}>
          ${t("webinar.remove")}</button>
      </div>`)}
      ${form.figures.length < MAX_FIGURES && html`<button type="button" class="link"
        onClick=${() => setForm({ ...form, figures: [...form.figures, { label_en: "", label_zh: "", value: "", unit: "" }] })}>
        ${t("project.figure.add")}</button>`}
    </fieldset>
    ${mayCreate() && html`<${MemberPicker} members=${form.members} onChange=${(members) => setForm({ ...form, members })} />`}
    ${message && html`<p role="alert" class="error" id="project-form-error" tabindex="-1">${message}</p>`}
    <div class="buttons">
      <button type="submit" disabled=${busy}>${t(project ? "project.save" : "project.create_submit")}</button>
      <button type="button" class="link" onClick=${() => onDone(null)}>${t("room.cancel")}</button>
    </div>
  </form>`;
}
