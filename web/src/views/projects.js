// The projects view: eco-city pilot projects, newest first, filtered by city, sector and status
// (docs/protocol.md, "Projects"); moderators and admins create one from here. A card shows the
// names, city, sectors, status badge, a few key figures and the follower count.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import {
  figureLabel, figureValue, listedProjects, loadProjects, mayCreate, projectName, roomName, STATUSES,
} from "../subjects/projects.js";
import { roomTitle } from "../subjects/rooms.js";
import { ProjectForm } from "./projectform.js";

export function StatusBadge({ project }) {
  return html`<span class=${`tag project-status status-${project.status}`}>${t(`project.status.${project.status}`)}</span>`;
}

export function Figures({ figures, limit }) {
  const shown = limit ? figures.slice(0, limit) : figures;
  if (!shown.length) return null;
  return html`<dl class="figures">${shown.map((f) => html`<div class="figure">
    <dt>${figureLabel(f)}</dt><dd><span class="figure-value">${figureValue(f)}</span> ${f.unit}</dd></div>`)}</dl>`;
}

function Card({ project }) {
  const name = projectName(project);
  const other = state.lang === "zh" ? project.name.en : project.name.zh;
  return html`<li class="project-card" data-id=${project.id}><article aria-label=${name}>
    <h3><a href=${`#/projects/${project.id}`}>${name}</a> <${StatusBadge} project=${project} /></h3>
    ${other && other !== name && html`<p class="muted other-name" lang=${state.lang === "zh" ? "en" : "zh-CN"}>${other}</p>`}
    <p class="project-where">${roomName(project.city)} · ${project.sectors.map(roomName).join(t("form.list_sep"))}</p>
    <${Figures} figures=${project.figures} limit=${3} />
    <p class="muted">${t("project.followers", { count: project.followers })}${project.following ? ` · ${t("project.following")}` : ""}</p>
  </article></li>`;
}

function Filter({ id, label, value, options, onChange }) {
  return html`<div class="field"><label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      <option value="">${t("project.any")}</option>
      ${options.map(([v, text]) => html`<option value=${v} selected=${value === v}>${text}</option>`)}
    </select></div>`;
}

function Projects() {
  const [filters, setFilters] = useState({ city: "", sector: "", status: "" });
  const [error, setError] = useState("");
  const [creating, setCreating] = useState(false);
  useEffect(() => {
    loadProjects(filters).then(() => setError("")).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [filters.city, filters.sector, filters.status]);
  const list = listedProjects();
  const rooms = (kind) => state.rooms.filter((r) => r.kind === kind).map((r) => [r.id, roomTitle(r)]);
  const set = (key) => (value) => setFilters({ ...filters, [key]: value });
  return html`<section class="projects" aria-labelledby="projects-title">
    <h2 id="projects-title">${t("project.title")}</h2>
    <p class="muted">${t("project.intro")}</p>
    ${mayCreate() && (creating
      ? html`<${ProjectForm} onDone=${(project) => { setCreating(false); if (project) location.hash = `#/projects/${project.id}`; }} />`
      : html`<button type="button" class="plan" onClick=${() => setCreating(true)}>${t("project.create")}</button>`)}
    <div class="project-filters field-row" role="group" aria-label=${t("project.filters")}>
      <${Filter} id="project-filter-city" label=${t("project.field.city")} value=${filters.city} options=${rooms("city")} onChange=${set("city")} />
      <${Filter} id="project-filter-sector" label=${t("project.field.sector")} value=${filters.sector} options=${rooms("sector")} onChange=${set("sector")} />
      <${Filter} id="project-filter-status" label=${t("project.field.status")} value=${filters.status}
        options=${STATUSES.map((s) => [s, t(`project.status.${s}`)])} onChange=${set("status")} />
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${list && !list.items.length && !error && html`<p class="muted projects-empty">${t("project.none")}</p>`}
    ${list && list.items.length > 0 && html`<ul class="feed project-list" aria-label=${t("project.title")}>
      ${list.items.map((p) => html`<${Card} key=${p.id} project=${p} />`)}</ul>`}
    ${list?.next && html`<button type="button" class="link" onClick=${() => loadProjects(filters, true).catch(() => {})}>${t("project.more")}</button>`}
  </section>`;
}

registerView({ name: "projects", pattern: "/projects", component: Projects });
