// Email preferences (GET/PUT /api/v1/me/mail-preferences, docs/protocol.md "Email"): which
// notification emails the member takes, the digest and its rooms, and the language of their
// mail, which follows the interface language whenever the member picks one, and is set to it at
// registration and sign-in while unset.
import { api } from "../api.js";
import { state } from "../state.js";
import { onLanguageChange } from "./language.js";

export const MAIL_KINDS = ["direct", "mention", "reply", "webinar_reminder"];
export const DIGESTS = ["off", "daily", "weekly"];

export const loadMailPreferences = () => api("GET", "/api/v1/me/mail-preferences");

// Any subset of the fields; resolves to the preferences as stored.
export const saveMailPreferences = (changes) => api("PUT", "/api/v1/me/mail-preferences", changes);

// Right after registering or signing in: a member who never chose a language for their mail
// gets the interface's (so mail is not in both languages until they switch by hand).
export async function keepMailLanguage() {
  const { language } = await loadMailPreferences();
  if (!language) await saveMailPreferences({ language: state.lang });
}

// A signed-in member's mail follows the language they pick (a guest has no mail).
onLanguageChange((lang) => {
  if (state.user && !state.user.guest) saveMailPreferences({ language: lang }).catch(() => {});
});
