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
