// Account recovery and security (docs/protocol.md, "Account recovery"): the mailed links'
// confirmations (they work signed out), password reset, verification, change of address and
// password, and the member's sessions.
import { api } from "../api.js";
import { changed, state } from "../state.js";

// The page a mailed link opens: #/reset/<token>, #/verify/<token>, #/email/<token>; or null.
export function mailedLink(hash) {
  const match = /^#\/(reset|verify|email)\/([A-Za-z0-9_-]{1,128})$/.exec(hash || "");
  return match ? { kind: match[1], token: match[2] } : null;
}

// Always resolves the same way whether an account has the address (the server says nothing).
export const requestReset = (email) => api("POST", "/api/v1/account/password-reset", { email });

export const confirmReset = (token, password) =>
  api("POST", "/api/v1/account/password-reset/confirm", { token, password });

async function refreshUser() {
  if (!state.user) return;
  const { user } = await api("GET", "/api/v1/me");
  state.user = { ...state.user, ...user };
  changed();
}

export async function confirmVerification(token) {
  await api("POST", "/api/v1/account/verification/confirm", { token });
  await refreshUser().catch(() => {});
}

export async function confirmEmailChange(token) {
  await api("POST", "/api/v1/account/email/confirm", { token });
  await refreshUser().catch(() => {});
}

export const resendVerification = () => api("POST", "/api/v1/account/verification");

export const requestEmailChange = (email, password, code) =>
  api("POST", "/api/v1/account/email", code ? { email, password, code } : { email, password });

export const changePassword = (currentPassword, newPassword, code) =>
  api("PUT", "/api/v1/account/password", code
    ? { current_password: currentPassword, new_password: newPassword, code }
    : { current_password: currentPassword, new_password: newPassword });

export async function loadSessions() {
  return (await api("GET", "/api/v1/account/sessions")).sessions;
}

export const endSession = (id) => api("DELETE", `/api/v1/account/sessions/${encodeURIComponent(id)}`);

export async function endOtherSessions() {
  return (await api("POST", "/api/v1/account/sessions/end-others")).ended;
}
