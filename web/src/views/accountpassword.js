// Account section "Password" (order 20): a new password, the current one (and a code with
// two-factor on) asked; the member's
// other sessions end (the server does it).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { changePassword } from "../subjects/account.js";
import { identityProblem, registerAccountSection } from "./account.js";

function PasswordSection() {
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await changePassword(form.get("current"), form.get("new"), form.get("code") || "");
      setError("");
      setNote(t("account.password.done"));
      event.target.reset();
    } catch (err) {
      setNote("");
      setError(identityProblem(err));
    }
  }
  return html`<h3 id="account-password-title">${t("account.password.title")}</h3>
    <form class="account-form" onSubmit=${submit} aria-labelledby="account-password-title">
      <label>${t("account.password.current")}<input name="current" type="password" required autocomplete="current-password" /></label>
      ${state.user.two_factor?.enabled && html`<label>${t("twofactor.code")}<input name="code" required maxlength="32"
        autocomplete="one-time-code" spellcheck=${false} /></label>`}
      <label>${t("account.password.new")}<input name="new" type="password" required minlength="8" autocomplete="new-password"
        aria-describedby=${error ? "account-password-error" : undefined} /></label>
      ${error && html`<p role="alert" class="error" id="account-password-error">${error}</p>`}
      <button type="submit">${t("account.password.submit")}</button>
    </form>
    <p role="status" class="account-note">${note}</p>`;
}

registerAccountSection({ id: "password", order: 20, component: PasswordSection });
