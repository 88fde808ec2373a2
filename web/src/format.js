// Times in the member's own time zone (their profile's time_zone, else the browser's).
import { state } from "./state.js";

function locale() {
  return state.lang === "zh" ? "zh-CN" : "en-GB";
}

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function myZone() {
  const zone = state.profile?.time_zone;
  return zone && zone !== "UTC" ? zone : browserZone;
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

export function clockIn(zone) {
  try {
    return new Intl.DateTimeFormat(locale(), { timeZone: zone, weekday: "short", hour: "2-digit", minute: "2-digit" })
      .format(new Date()) + ` (${zone})`;
  } catch {
    return zone;
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
