// Email preferences (GET/PUT /api/v1/me/mail-preferences, docs/protocol.md "Email"): which
// notification emails the member takes, the digest and its rooms, and the language of their
// mail, which follows the interface language whenever the member picks one.
import { api } from "../api.js";
import { state } from "../state.js";
import { onLanguageChange } from "./language.js";

export const MAIL_KINDS = ["direct", "mention", "reply", "webinar_reminder"];
export const DIGESTS = ["off", "daily", "weekly"];

export const loadMailPreferences = () => api("GET", "/api/v1/me/mail-preferences");

// Any subset of the fields; resolves to the preferences as stored.
export const saveMailPreferences = (changes) => api("PUT", "/api/v1/me/mail-preferences", changes);

// A signed-in member's mail follows the language they pick (a guest has no mail).
onLanguageChange((lang) => {
  if (state.user && !state.user.guest) saveMailPreferences({ language: lang }).catch(() => {});
});
