// The privacy notice the operator wrote (or the bundled default), in the reader's language.
import { api } from "../api.js";
import { state } from "../state.js";

export async function loadPrivacy() {
  return (await api("GET", `/api/v1/privacy?lang=${encodeURIComponent(state.lang)}`)).text;
}
