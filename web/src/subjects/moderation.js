// Moderation (docs/protocol.md, "Moderation"): a member reports a message or a member; a
// moderator (or admin) works the reports queue, acts on reports and members, and reads a
// member's record; a member told of a moderator's warning or mute (`moderation_notice`).
import { api } from "../api.js";
import { changed, state } from "../state.js";

export const REASONS = ["spam", "abuse", "harassment", "illegal", "other"];
// Durations offered for mutes and suspensions, in seconds.
export const DURATIONS = [3600, 86400, 7 * 86400, 30 * 86400];

export function isModerator() {
  return state.user?.role === "moderator" || state.user?.role === "admin";
}

// {room, message_id} or {member}, with reason and note: the report as the server filed it.
export async function fileReport(target, reason, note) {
  const { report } = await api("POST", "/api/v1/reports", { ...target, reason, note });
  return report;
}

// A page of the queue: {reports, next, open}; state "open" (oldest first) or "closed".
export async function loadQueue(which, cursor) {
  const params = new URLSearchParams({ state: which });
  if (cursor) params.set("cursor", String(cursor));
  return api("GET", `/api/v1/moderation/reports?${params}`);
}

export async function actOnReport(reportId, action, { duration_s, room, reason } = {}) {
  const { report } = await api("POST", `/api/v1/moderation/reports/${reportId}/actions`,
    { action, duration_s, room, reason: reason || "" });
  return report;
}

export async function actOnMember(userId, action, { duration_s, room, reason } = {}) {
  return api("POST", `/api/v1/moderation/members/${userId}/actions`, { action, duration_s, room, reason: reason || "" });
}

export async function loadRecord(userId) {
  return api("GET", `/api/v1/moderation/members/${userId}`);
}

// Notices this member has dismissed (sanction ids), kept per member in this browser so a warning
// shown once is not shown again at every start.
const seenKey = () => `ecolink.moderation.seen.${state.user?.id}`;

function seenNotices() {
  try {
    return new Set(JSON.parse(localStorage.getItem(seenKey()) || "[]"));
  } catch {
    return new Set();
  }
}

// At start (session.js): the member's standing (GET /api/v1/me/moderation), so a warning or
// mute made while they were away shows when they come back: a mute in force first, else the
// newest warning not dismissed here. A failure shows nothing (the frame still comes live).
export async function loadStanding() {
  try {
    const { mutes, warnings } = await api("GET", "/api/v1/me/moderation");
    const seen = seenNotices();
    const notice = [...mutes, ...warnings].find((s) => !seen.has(s.id));
    if (notice && !state.moderationNotice) {
      state.moderationNotice = notice;
      changed();
    }
  } catch {
    // nothing to show
  }
}

// A moderator's warning (or mute) just made about this member: shown until dismissed.
export function onNotice(frame) {
  state.moderationNotice = frame.notice;
  changed();
}

export function dismissNotice() {
  const notice = state.moderationNotice;
  if (notice?.id) {
    const seen = seenNotices();
    seen.add(notice.id);
    try {
      localStorage.setItem(seenKey(), JSON.stringify([...seen].slice(-200)));
    } catch {
      // a full or disabled storage: shown again next time
    }
  }
  state.moderationNotice = null;
  changed();
}
