// The first-visit welcome: shown until the member dismisses it, remembered per member in this
// browser's local storage (a new browser shows it once more; nothing is kept on the server).
import { changed, state } from "../state.js";

const key = () => `ecolink.welcomed.${state.user?.id}`;

export function welcomeDue() {
  if (!state.user) return false;
  try {
    return localStorage.getItem(key()) === null;
  } catch {
    return false; // storage blocked: better never than every time
  }
}

export function dismissWelcome() {
  try {
    localStorage.setItem(key(), String(Date.now()));
  } catch { /* storage blocked: it goes for this page's life */ }
  changed();
}
