// The privacy notice (#/privacy): plain text from the server, one paragraph per blank-line
// separated block; reachable signed in (sidebar) and signed out (the login page).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { loadPrivacy } from "../subjects/privacy.js";

export function Privacy() {
  const [text, setText] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    loadPrivacy().then(setText, (err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [state.lang]);
  const paragraphs = (text || "").split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
  return html`<section class="privacy" aria-labelledby="privacy-title">
    <h2 id="privacy-title">${t("privacy.title")}</h2>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${paragraphs.map((p) => html`<p class="privacy-text">${p}</p>`)}
    ${!state.user && html`<p><a href="#">${t("privacy.back")}</a></p>`}
  </section>`;
}

registerView({ name: "privacy", pattern: "/privacy", component: Privacy });
