// Times in the member's own time zone (their profile's time_zone, else the browser's).
import { state } from "./state.js";

function locale() {
  return state.lang === "zh" ? "zh-CN" : "en-GB";
}

export function myZone() {
  const zone = state.profile?.time_zone;
  return zone && zone !== "UTC" ? zone : Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function formatTime(iso, zone = myZone()) {
  if (!iso) return "";
  try {
    return new Intl.DateTimeFormat(locale(), { timeZone: zone, dateStyle: "short", timeStyle: "short" })
      .format(new Date(iso));
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
