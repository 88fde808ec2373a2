// Exports (docs/protocol.md, "Exports"): a transcript of a room, topic or webinar; the member's
// own data (a zip); an admin's compliance export (a zip) and the audit log that records them.
// A file is fetched rather than linked, so an error the server answers (a range too long for a
// PDF, exports busy) is shown where the member asked; then it is saved under the server's
// name through an object URL (docs/decisions.md, "Exports in the web client").
import { api, download } from "../api.js";
import { state } from "../state.js";

// In the order the dialog offers them; the server's names (`format=`).
export const FORMATS = ["markdown", "html", "pdf", "jsonl", "csv"];
const BASES = { room: "rooms", topic: "topics", webinar: "webinars" };
const AUDIT_PAGE = 50;

function query(fields) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null && value !== "") params.set(key, value);
  return params.toString();
}

// GET /api/v1/{rooms|topics|webinars}/{id}/export?format&from&to&tz&lang; from and to are
// dates (YYYY-MM-DD, to inclusive) in `tz`.
export function transcriptPath(scope, id, { format, from, to, tz, lang }) {
  return `/api/v1/${BASES[scope]}/${encodeURIComponent(id)}/export?${query({ format, from, to, tz, lang })}`;
}

// GET /api/v1/me/export: the README inside in `lang`.
export const personalPath = (lang) => `/api/v1/me/export?${query({ lang })}`;

// GET /api/v1/admin/export: `rooms` (ids) or all.
export function compliancePath({ rooms, all, format, from, to, tz, lang }) {
  return `/api/v1/admin/export?${query({ ...(all ? { all: "true" } : { rooms: rooms.join(",") }), format, from, to, tz, lang })}`;
}

// Fetches the file at `path` and saves it (the browser's download); resolves to its name.
// Rejects with the server's ApiError (4xx, 5xx) or an AbortError when `signal` aborted.
export async function saveExport(path, { signal, onProgress } = {}) {
  const { blob, filename } = await download(path, { signal, onProgress, fallback: "ecolink-export" });
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // the browser has started its own copy by then
  return filename;
}

// The audit log, newest first: {entries, next} (next: the `before` of the following page, or null).
export async function loadAudit(before = null) {
  const { entries, next } = await api("GET", `/api/v1/admin/audit?${query({ before, limit: String(AUDIT_PAGE) })}`);
  return { entries, next };
}

export const isAdmin = () => state.user?.role === "admin";

// ---- dates for the range fields ------------------------------------------------------------

// Today's date (YYYY-MM-DD) in time zone `zone`, `back` days ago.
export function dateIn(zone, back = 0) {
  let today;
  try {
    today = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  } catch {
    today = new Date().toISOString().slice(0, 10);
  }
  const [y, m, d] = today.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d - back)).toISOString().slice(0, 10);
}

// The range a preset stands for: [from, to] ("" for open ends).
export function presetRange(preset, zone) {
  if (preset === "today") return [dateIn(zone), dateIn(zone)];
  if (preset === "week") return [dateIn(zone, 6), dateIn(zone)];
  if (preset === "month") return [dateIn(zone, 29), dateIn(zone)];
  return ["", ""];
}
