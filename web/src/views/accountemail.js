// Account section "Email address" (order 10): the address, whether it is confirmed (and a new
// link), and a change of address (the current password, and a code with two-factor on, asked;
// confirmed at the new address).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { requestEmailChange, resendVerification } from "../subjects/account.js";
import { identityProblem, registerAccountSection } from "./account.js";

function EmailSection() {
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const verified = state.user.email_verified !== false;
  async function resend() {
    try {
      await resendVerification();
      setNote(t("verify.resent"));
    } catch (err) {
      setNote(t("recovery.failed", { message: errorMessage(err) }));
    }
  }
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      await requestEmailChange(form.get("email"), form.get("password"), form.get("code") || "");
      setError("");
      setNote(t("account.email.sent"));
      event.target.reset();
    } catch (err) {
      setError(identityProblem(err));
    }
  }
  return html`<h3 id="account-email-title">${t("account.email.title")}</h3>
    <p>${t("account.email.current", { email: state.user.email })}
      ${" "}<span class=${verified ? "tag ok" : "tag warn"}>${t(verified ? "account.email.verified" : "account.email.unverified")}</span></p>
    ${!verified && html`<button type="button" onClick=${resend}>${t("verify.resend")}</button>`}
    <form class="account-form" onSubmit=${submit} aria-label=${t("account.email.change")}>
      <label>${t("account.email.new")}<input name="email" type="email" required autocomplete="email"
        aria-describedby=${error ? "account-email-error" : undefined} /></label>
      <label>${t("account.email.password")}<input name="password" type="password" required autocomplete="current-password" /></label>
      ${state.user.two_factor?.enabled && html`<label>${t("twofactor.code")}<input name="code" required maxlength="32"
        autocomplete="one-time-code" spellcheck=${false} /></label>`}
      ${error && html`<p role="alert" class="error" id="account-email-error">${error}</p>`}
      <button type="submit">${t("account.email.change")}</button>
    </form>
    <p role="status" class="account-note">${note}</p>`;
}

registerAccountSection({ id: "email", order: 10, component: EmailSection });
