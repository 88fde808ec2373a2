// Times in the member's own time zone (their profile's time_zone, else the browser's).
import { state } from "./state.js";
import { zoneName } from "./zones.js";

function locale() {
  return state.lang === "zh" ? "zh-CN" : "en-GB";
}

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function myZone() {
  return state.profile?.time_zone || browserZone; // null: the member never set one
}

// One formatter per language and zone: building an Intl.DateTimeFormat costs ~0.2 ms, which
// every message row paid on each render (docs/benchmarks.md, "Browser client").
const formatters = new Map();

function formatter(zone) {
  const key = `${locale()} ${zone}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale(), { timeZone: zone, dateStyle: "short", timeStyle: "short" });
    formatters.set(key, format);
  }
  return format;
}

export function formatTime(iso, zone = myZone()) {
  if (!iso) return "";
  try {
    return formatter(zone).format(new Date(iso));
  } catch {
    return iso;
  }
}

// The time now in another member's zone and the zone's name ("Berlin time" / "柏林时间"), or
// null when their zone is unknown: a default is never shown as someone's local time.
export function localTime(zone) {
  if (!zone) return null;
  try {
    const time = new Intl.DateTimeFormat(locale(), { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit" })
      .format(new Date());
    return { time, zone: zoneName(zone, state.lang) };
  } catch {
    return null; // a zone this browser does not know
  }
}

// A message's calendar day in the member's zone, as "YYYY-MM-DD" (en-CA writes dates so).
const dayKeys = new Map();
export function dayKey(iso, zone = myZone()) {
  let format = dayKeys.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    dayKeys.set(zone, format);
  }
  try {
    return format.format(new Date(iso));
  } catch {
    return "";
  }
}

// The line between two days of messages: "Today", "Yesterday" (in the member's language, by
// Intl.RelativeTimeFormat), else the date written out, all in the member's zone.
// (formatters built once per language and zone, like the times': a render draws a few lines)
const dayFormats = new Map();
export function dayLabel(iso, now = new Date(), zone = myZone()) {
  const key = dayKey(iso, zone);
  const days = Math.round((Date.parse(dayKey(now.toISOString(), zone)) - Date.parse(key)) / 86400000);
  const formats = `${locale()} ${zone}`;
  if (!dayFormats.has(formats)) {
    let date = null;
    try {
      date = new Intl.DateTimeFormat(locale(), { timeZone: zone, dateStyle: "full" });
    } catch { /* an unknown zone: the date as YYYY-MM-DD */ }
    dayFormats.set(formats, { relative: new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }), date });
  }
  const { relative, date } = dayFormats.get(formats);
  if (days === 0 || days === 1) {
    const words = relative.format(-days, "day");
    return words.charAt(0).toLocaleUpperCase(locale()) + words.slice(1);
  }
  return date ? date.format(new Date(iso)) : key;
}

// ---- webinars: a span of time in a zone, and the form's wall times (views/webinar*.js) ---

// "6 Mar 2027, 09:30 – 10:30" in a zone (the end's date written only when it differs).
export function formatSpan(startIso, endIso, zone = myZone()) {
  try {
    const format = new Intl.DateTimeFormat(locale(), { timeZone: zone, dateStyle: "medium", timeStyle: "short" });
    return format.formatRange(new Date(startIso), new Date(endIso));
  } catch {
    return `${formatTime(startIso, zone)} – ${formatTime(endIso, zone)}`;
  }
}

// The offset of `zone` from UTC at the instant `ms`, in milliseconds.
function zoneOffset(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

// A wall time "2027-03-06T09:30" (an <input type="datetime-local">) in `zone` as an ISO instant
// with its offset ("…Z"), or "" when it is not one.
export function wallToIso(wall, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(wall || "");
  if (!match) return "";
  const [, y, mo, d, h, mi] = match.map(Number);
  const guess = Date.UTC(y, mo - 1, d, h, mi);
  try {
    let ms = guess - zoneOffset(guess, zone);
    ms = guess - zoneOffset(ms, zone); // across a change of offset, the offset then
    return new Date(ms).toISOString();
  } catch {
    return "";
  }
}

// An instant as the wall time an <input type="datetime-local"> shows, in `zone`.
export function isoToWall(iso, zone) {
  try {
    const ms = Date.parse(iso);
    const wall = new Date(ms + zoneOffset(ms, zone)).toISOString();
    return wall.slice(0, 16);
  } catch {
    return "";
  }
}
