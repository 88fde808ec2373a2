// The knowledge library (docs/protocol.md, "Library"): the list with its filters, sort and
// pages; a document's page (versions, where discussed); proposing with an upload; moderators'
// review, edits and new versions; sharing into a room.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { inReadersLanguage, pagedList } from "./pages.js";

export const DOC_TYPES = ["report", "guide", "case-study", "policy", "presentation", "data", "other"];
export const DOC_LANGUAGES = ["en", "zh", "both"];
export const SORTS = ["newest", "downloads", "title"];
const PAGE = 30;

// Moderators and admins curate (publish, reject, withdraw, edit, add versions).
export const mayCurate = () => state.user?.role === "moderator" || state.user?.role === "admin";

// The title in the reader's language, else the other one.
export const docTitle = (doc) => inReadersLanguage(doc?.title);

// The other language's title, when both exist.
export function otherTitle(doc) {
  const title = doc?.title || {};
  const other = state.lang === "zh" ? "en" : "zh";
  return title[state.lang] && title[other] ? title[other] : "";
}

export const downloadLink = (id, version) => `/api/v1/library/${encodeURIComponent(id)}/download${version ? `?version=${version}` : ""}`;
export const sectorRooms = () => state.rooms.filter((room) => room.kind === "sector");
export const cityRooms = () => state.rooms.filter((room) => room.kind === "city");

function remember(doc) {
  const known = state.library.byId.get(doc.id);
  state.library.byId.set(doc.id, { ...(known || {}), ...doc });
}

const documents = pagedList("library", "/api/v1/library", "documents", remember);

// A page of the list for `filters` ({state, sector, city, language, type, year, q, sort});
// `more`: the page after the one shown.
export function loadLibrary(filters, more = false) {
  const query = new URLSearchParams({ limit: String(PAGE), lang: state.lang });
  for (const [key, value] of Object.entries(filters)) if (value) query.set(key, String(value));
  return documents.load(query, more);
}

export const listedDocs = documents.listed;

export const docOf = (id) => state.library.byId.get(id) || null;

function keep({ document }) {
  remember(document);
  state.library.missing.delete(document.id);
  changed();
  return document;
}

export async function loadDocument(id) {
  try {
    return keep(await api("GET", `/api/v1/library/${encodeURIComponent(id)}`));
  } catch (err) {
    if (err.status === 404 || err.status === 400) {
      state.library.missing.add(id);
      changed();
    }
    throw err;
  }
}

export const isMissing = (id) => state.library.missing.has(id);

// fields: {title_en, title_zh, description, type, language, year, source, sectors, cities};
// file: the uploaded file's id.
export async function proposeDocument(fields, file, note = "") {
  return keep(await api("POST", "/api/v1/library", { ...fields, file, note }));
}

export async function editDocument(id, fields) {
  return keep(await api("PATCH", `/api/v1/library/${encodeURIComponent(id)}`, fields));
}

export async function addVersion(id, file, note = "") {
  return keep(await api("POST", `/api/v1/library/${encodeURIComponent(id)}/versions`, { file, note }));
}

export async function reviewDocument(id, action, reason = "") {
  return keep(await api("POST", `/api/v1/library/${encodeURIComponent(id)}/review`, reason ? { action, reason } : { action }));
}

export async function shareDocument(id, room, comment = "") {
  const cid = `share-${crypto.getRandomValues(new Uint32Array(2)).join("-")}`;
  const shared = await api("POST", `/api/v1/library/${encodeURIComponent(id)}/share`, comment ? { room, cid, comment } : { room, cid });
  await loadDocument(id).catch(() => {});
  return shared;
}
