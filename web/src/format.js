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
