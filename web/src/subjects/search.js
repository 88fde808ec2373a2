// Search over everything this member may read (docs/protocol.md, "Search"): the filters live
// in the address (`#/search?q=…&kind=…&room=…`), so a search is a link and Back returns to it;
// the results are a paged list (subjects/pages.js: by cursor, a late answer to an earlier
// search dropped); where each result opens.
import { changed, state } from "../state.js";
import { pagedList } from "./pages.js";
import { messageLink } from "./notifications.js";
import { roomTitle } from "./rooms.js";

export const KINDS = ["message", "topic", "news", "question", "answer", "document", "project"];
export const ORDERS = ["newest", "relevance"];
export const LANGS = ["en", "zh"];
export const MAX_QUERY_CHARS = 500; // the server refuses longer (chat/search/query.py)
const PAGE = 20;

// A result's key in the list: a question and its answer share the question's id.
const keyOf = (result) => `${result.kind}:${result.id}`;

const results = pagedList("search", "/api/v1/search", "results",
  (result) => state.search.byId.set(keyOf(result), result), { keyOf, cursor: "cursor" });

// The filters a search address holds. `query`: the part after "?" ("" when none).
// {q, kinds: [], rooms: [], since: "YYYY-MM-DD"|"", until: same, lang: ""|"en"|"zh",
//  files: ""|"true"|"false", order: "newest"|"relevance"}
export function filtersOf(query = "") {
  const params = new URLSearchParams(query);
  const pick = (key, allowed) => (allowed.includes(params.get(key)) ? params.get(key) : "");
  const day = (key) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(key) || "") ? params.get(key) : "");
  return {
    q: params.get("q") || "",
    kinds: params.getAll("kind").filter((kind) => KINDS.includes(kind)),
    rooms: params.getAll("room"),
    since: day("since"),
    until: day("until"),
    lang: pick("lang", LANGS),
    files: pick("files", ["true", "false"]),
    order: pick("order", ORDERS) || "newest",
  };
}

// The address of a search (the inverse of filtersOf; empty filters left out).
export function searchLink(filters) {
  const params = new URLSearchParams();
  params.set("q", filters.q || "");
  for (const kind of filters.kinds || []) params.append("kind", kind);
  for (const room of filters.rooms || []) params.append("room", room);
  for (const key of ["since", "until", "lang", "files"]) if (filters[key]) params.set(key, filters[key]);
  if (filters.order && filters.order !== "newest") params.set("order", filters.order);
  return `#/search?${params}`;
}

// A day ("YYYY-MM-DD") as ms since the epoch at its start in this browser's zone; `next`: the
// start of the day after (an "until" day is included whole).
function dayStartMs(day, next = false) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d + (next ? 1 : 0)).getTime();
}

// The route's parameters for `filters` (GET /api/v1/search).
function requestOf(filters) {
  const query = new URLSearchParams({ q: filters.q.trim(), limit: String(PAGE) });
  for (const kind of filters.kinds) query.append("kind", kind);
  for (const room of filters.rooms) query.append("room", room);
  if (filters.since) query.set("since_ms", String(dayStartMs(filters.since)));
  if (filters.until) query.set("until_ms", String(dayStartMs(filters.until, true))); // (before it)
  if (filters.lang) query.set("lang", filters.lang);
  if (filters.files) query.set("has_files", filters.files);
  query.set("order", filters.order);
  return query;
}

// Runs the search `filters` describe (the first page), or the next page of the one shown
// (`more`). An empty query shows nothing and asks nothing. Throws the server's refusal (an
// ApiError; 400 with details per field) for the view to say.
export async function runSearch(filters, more = false) {
  if (!filters.q.trim()) {
    clearSearch();
    return;
  }
  await results.load(requestOf(filters), more);
}

export function clearSearch() {
  state.search.list = null;
  state.search.byId.clear();
  changed();
}

// The results shown: {items, next} (null before the first answer).
export const searchResults = results.listed;

// Where a result opens: a message in its room at its place; a topic or news post its thread;
// a document or project its page; a question or answer its webinar's board.
export function resultLink(result) {
  switch (result.kind) {
    case "message":
      return result.room_id ? messageLink(result.room_id, result.id, result.seq) : null;
    case "topic":
    case "news":
      return `#/room/${encodeURIComponent(result.id)}`;
    case "document":
      return `#/library/${encodeURIComponent(result.id)}`;
    case "project":
      return `#/projects/${encodeURIComponent(result.id)}`;
    case "question":
    case "answer":
      return result.room_id ? `#/webinar/${encodeURIComponent(result.room_id)}` : null;
    default:
      return null;
  }
}

// The room a result is in, by name in the reader's language (the room list's title when the
// member has the room listed, else the one the result carries).
export function resultRoom(result) {
  if (!result.room) return "";
  const listed = state.rooms.find((room) => room.id === result.room_id);
  if (listed) return roomTitle(listed);
  const { title_en: en, title_zh: zh } = result.room;
  return (state.lang === "zh" ? zh || en : en || zh) || "";
}

// A snippet {text, marks: [[start, end), …]} as pieces [{text, marked}], in order: the marks
// sorted, overlapping or out-of-range ones clipped, so the text comes out whole and once.
// (Ranges count characters as the server does: code points, not UTF-16 units.)
export function snippetPieces(snippet) {
  const chars = Array.from(snippet?.text || "");
  const marks = (snippet?.marks || [])
    .filter((mark) => Array.isArray(mark) && mark.length === 2)
    .map(([start, end]) => [Math.max(0, start | 0), Math.min(chars.length, end | 0)])
    .filter(([start, end]) => end > start)
    .sort((a, b) => a[0] - b[0]);
  const pieces = [];
  let at = 0;
  for (const [start, end] of marks) {
    if (end <= at) continue;
    const from = Math.max(start, at);
    if (from > at) pieces.push({ text: chars.slice(at, from).join(""), marked: false });
    pieces.push({ text: chars.slice(from, end).join(""), marked: true });
    at = end;
  }
  if (at < chars.length) pieces.push({ text: chars.slice(at).join(""), marked: false });
  return pieces;
}
