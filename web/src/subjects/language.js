// The interface language (English or Simplified Chinese; the dictionaries are in i18n.js).
import { applyLanguage, errorText, saveLanguage, translate } from "../i18n.js";
import { changed, state } from "../state.js";

export const t = (key, params) => translate(state.lang, key, params);
export const errorMessage = (error) => errorText(state.lang, error);

// The page's lang attribute follows the stored choice from the start.
export function showLanguage() {
  applyLanguage(state.lang);
}

const languageListeners = [];

// `listener(lang)` after each language the member picks (not at start-up).
export function onLanguageChange(listener) {
  languageListeners.push(listener);
}

export function setLanguage(lang) {
  state.lang = lang;
  saveLanguage(lang);
  changed();
  for (const listener of languageListeners) listener(lang);
}
