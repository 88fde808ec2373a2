// The session: who is signed in (and their profile), signing in, registering, signing out.
import { api } from "../api.js";
import { changed, state } from "../state.js";
import { loadBlocks } from "./blocks.js";
import { proofSpent, proofUsed, takeProof } from "./challenge.js";
import { connection, signedOut } from "./connection.js";
import { forgetDrafts, loadDrafts } from "./drafts.js";
import { loadStanding } from "./moderation.js";
import { forgetOutbox, resendStored } from "./outbox.js";
import { showLanguage } from "./language.js";
import { refreshRooms } from "./rooms.js";

export async function boot() {
  showLanguage();
  try {
    const { user, limits } = await api("GET", "/api/v1/sessions");
    if (limits) state.limits = limits;
    if (user) await signedIn(user);
  } catch {
    state.user = null;
  }
  state.booted = true;
  changed();
}

// A new session from {email, password}: resolves to its user (then call signedIn), or
// rejects with the server's error.
export async function signIn(credentials) {
  return (await api("POST", "/api/v1/sessions", credentials)).user;
}

// A new account from {email, password, display_name}, signed in: as signIn. The browser's time
// zone goes with it, so others see this member's local time; a zone the server does not know
// is left out rather than refusing the account. The solved registration challenge goes with
// it too (subjects/challenge.js); one refused as used or expired is solved afresh once.
export async function register(account) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  try {
    return await createAccount(zone ? { ...account, time_zone: zone } : account);
  } catch (err) {
    if (!zone || !err.details?.time_zone || Object.keys(err.details).length !== 1) throw err;
    return await createAccount(account);
  }
}

async function createAccount(account) {
  try {
    return await createAccountWithProof(account);
  } catch (err) {
    if (err.code !== "proof_required" && err.code !== "proof_invalid") throw err;
    return await createAccountWithProof(account);
  }
}

async function createAccountWithProof(account) {
  const proof = await takeProof();
  try {
    const { user } = await api("POST", "/api/v1/accounts", proof ? { ...account, proof } : account);
    proofUsed();
    return user;
  } catch (err) {
    if (err.code !== "invalid") proofSpent(); // checked (and spent) once the fields were valid
    throw err;
  }
}

// A webinar's guest (docs/protocol.md, "Guests (webinars)"): a display name, no account; the
// session (cookie) is for that webinar only. Resolves to the guest's user (then signedIn).
export async function joinAsGuest(webinarId, displayName) {
  return (await api("POST", `/api/v1/webinars/${webinarId}/guests`, { display_name: displayName })).user;
}

// A guest's session reaches one webinar and nothing else (no rooms, profile, notifications).
export const isGuest = () => Boolean(state.user?.guest);

// Loads what the signed-in member needs, then connects.
export async function signedIn(user) {
  state.user = user;
  loadDrafts();
  // None needs another: one round trip instead of four on a slow link. A guest has none of
  // them: their webinar's page loads what it shows.
  if (!user.guest) await Promise.all([loadProfile(), loadBlocks(), refreshRooms(), loadStanding()]);
  resendStored(); // sends a closed page left without their ack: sent once the socket is open
  connection.start(); // the unread notification count follows its first pong
  changed();
}

export async function logout() {
  await api("DELETE", "/api/v1/sessions").catch(() => {});
  leave();
}

// The session is over (logged out, or the account deleted): forget it in this page too.
export function leave() {
  forgetDrafts(); // a shared computer keeps nothing of what was being written
  forgetOutbox(); // ... nor sends still waiting for their ack
  connection.stop();
  signedOut();
}

// The profile as the server has it now (it may have changed in another tab or device).
export async function loadProfile() {
  state.profile = (await api("GET", "/api/v1/me/profile")).profile;
  return state.profile;
}

// PATCH /api/v1/me/profile; resolves to the profile saved.
export async function saveProfile(fields) {
  state.profile = (await api("PATCH", "/api/v1/me/profile", fields)).profile;
  if (state.user && state.profile.display_name) state.user.name = state.profile.display_name; // the header's name
  changed();
  return state.profile;
}
