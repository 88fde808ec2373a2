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
