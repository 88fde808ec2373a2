// Eco-city projects (docs/protocol.md, "Projects"): the filtered listing, one project's page,
// its timeline of updates, following, posting an update, editing the page and its documents.
// A `project_update` notification (a followed project's new update) refreshes that project's
// page and timeline when they are loaded.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { t } from "./language.js";
import { inReadersLanguage, pagedList } from "./pages.js";
import { roomTitle } from "./rooms.js";

export const STATUSES = ["planned", "running", "completed"];
const PAGE = 30;
const TIMELINE_PAGE = 20;

// The name in the reader's language, else the other one.
export const projectName = (project) => inReadersLanguage(project?.name);

// A figure's label in the reader's language, else the other one.
export function figureLabel(figure) {
  return (state.lang === "zh" ? figure.label_zh || figure.label_en : figure.label_en || figure.label_zh) || "";
}

export function figureValue(figure) {
  return new Intl.NumberFormat(state.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: 2 }).format(figure.value);
}

// A library document's title in the reader's language, else the other one.
export function documentTitle(doc) {
  if (doc.kind === "file") return doc.file?.name || doc.id;
  return (state.lang === "zh" ? doc.title_zh || doc.title_en : doc.title_en || doc.title_zh) || doc.id;
}

export const roomName = (room) => roomTitle(room);
export const mayCreate = () => state.user?.role === "moderator" || state.user?.role === "admin";

function remember(project) {
  state.projects.byId.set(project.id, project);
}

const projects = pagedList("projects", "/api/v1/projects", "projects", remember);

// One page of projects with these filters ({city, sector, status}; "" = any); `more`: the page
// after the one shown.
export function loadProjects(filters, more = false) {
  const query = new URLSearchParams({ limit: String(PAGE) });
  for (const key of ["city", "sector", "status"]) if (filters[key]) query.set(key, filters[key]);
  return projects.load(query, more);
}

export const listedProjects = projects.listed;

export const projectOf = (id) => state.projects.byId.get(id) || null;
export const timelineOf = (id) => state.projects.timelines.get(id) || null;

export async function loadProject(id) {
  const { project } = await api("GET", `/api/v1/projects/${encodeURIComponent(id)}`);
  remember(project);
  changed();
  return project;
}

// The newest updates (or, with `more`, the page after those shown).
export async function loadTimeline(id, more = false) {
  const shown = state.projects.timelines.get(id);
  const query = new URLSearchParams({ limit: String(TIMELINE_PAGE) });
  if (more && shown?.next) query.set("before", shown.next);
  const { updates, next } = await api("GET", `/api/v1/projects/${encodeURIComponent(id)}/updates?${query}`);
  state.projects.timelines.set(id, { items: more && shown ? [...shown.items, ...updates] : updates, next });
  changed();
}

export async function createProject(body) {
  const { project } = await api("POST", "/api/v1/projects", body);
  remember(project);
  changed();
  return project;
}

export async function editProject(id, body) {
  const { project } = await api("PATCH", `/api/v1/projects/${encodeURIComponent(id)}`, body);
  remember(project);
  changed();
  return project;
}

export async function setFollowing(id, following) {
  const { project } = await api(following ? "PUT" : "DELETE", `/api/v1/projects/${encodeURIComponent(id)}/follow`);
  remember(project);
  state.announce = t(following ? "project.following" : "project.unfollowed");
  changed();
  return project;
}

export async function postUpdate(id, { happenedOn, body, attachments }) {
  const { update } = await api("POST", `/api/v1/projects/${encodeURIComponent(id)}/updates`,
    { happened_on: happenedOn, body, attachments });
  await Promise.all([loadTimeline(id), loadProject(id)]);
  state.announce = t("project.posted");
  changed();
  return update;
}

// Link a library document ({doc: "d-…"}) or attach an uploaded file ({file: "f-…"}).
export async function addDocument(id, item) {
  const { project } = await api("POST", `/api/v1/projects/${encodeURIComponent(id)}/documents`, item);
  remember(project);
  changed();
  return project;
}

export async function removeDocument(id, itemId) {
  const { project } = await api("DELETE",
    `/api/v1/projects/${encodeURIComponent(id)}/documents?id=${encodeURIComponent(itemId)}`);
  remember(project);
  changed();
  return project;
}

// ---- frames ----------------------------------------------------------------------------

export function onNotification(frame) {
  const note = frame.notification;
  if (note.kind !== "project_update" || !note.project) return;
  if (state.projects.timelines.has(note.project)) loadTimeline(note.project).catch(() => {});
  if (state.projects.byId.has(note.project)) loadProject(note.project).catch(() => {});
}
