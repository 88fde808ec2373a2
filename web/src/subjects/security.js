// Two-factor sign-in and deleting the account (docs/protocol.md, "Two-factor sign-in" and
// "Deleting an account"): the calls the account page's sections make. Each resolves to the
// server's answer or rejects with its ApiError.
import { api } from "../api.js";
import { changed, state } from "../state.js";

// {enabled, required, recovery_codes_left}; `me`'s copy (state.user.two_factor) follows it.
export async function loadTwoFactor() {
  const status = await api("GET", "/api/v1/account/two-factor");
  if (state.user) state.user.two_factor = { enabled: status.enabled, required: status.required };
  changed();
  return status;
}

// A new pending secret: {secret, uri, qr_svg}; the password confirms it is the member.
export const beginTwoFactor = (password) => api("POST", "/api/v1/account/two-factor/setup", { password });

// Turns it on with a code from the app: the recovery codes, shown once.
export async function enableTwoFactor(code) {
  const { recovery_codes: codes } = await api("POST", "/api/v1/account/two-factor/enable", { code });
  await loadTwoFactor();
  return codes;
}

export async function newRecoveryCodes(code) {
  return (await api("POST", "/api/v1/account/two-factor/recovery-codes", { code })).recovery_codes;
}

export async function disableTwoFactor(password, code) {
  await api("POST", "/api/v1/account/two-factor/disable", code ? { password, code } : { password });
  await loadTwoFactor();
}

// `messages`: "keep" or "erase". Resolves to the number of messages erased.
export async function deleteAccount(password, code, messages) {
  const body = { password, messages };
  if (code) body.code = code;
  return (await api("POST", "/api/v1/account/delete", body)).erased;
}

// Staff whom the operator requires two-factor of, without it: their staff tools answer 403
// two_factor_setup_required until they set it up.
export const mustSetUpTwoFactor = () => Boolean(state.user?.two_factor?.required && !state.user.two_factor.enabled);
