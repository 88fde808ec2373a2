// Signed-out account pages: "Forgot password?" on the log-in page, and the pages the mailed
// links open (#/reset/<token>, #/verify/<token>, #/email/<token>), which work signed in or out.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { confirmEmailChange, confirmReset, confirmVerification, requestReset } from "../subjects/account.js";

// The form that mails a reset link; `onBack` returns to the log-in form.
export function ForgotPassword({ onBack }) {
  const [sent, setSent] = useState(false);
  const [error, setError] = useState("");
  const status = useRef(null);
  async function submit(event) {
    event.preventDefault();
    try {
      await requestReset(new FormData(event.target).get("email"));
      setError("");
      setSent(true);
    } catch (err) {
      setError(t("recovery.failed", { message: errorMessage(err) }));
    }
  }
  useEffect(() => { if (sent) status.current?.focus(); }, [sent]);
  return html`<section class="recovery" aria-labelledby="forgot-title">
    <h2 id="forgot-title">${t("recovery.forgot_title")}</h2>
    ${sent ? html`<p class="notice" role="status" tabindex="-1" ref=${status}>${t("recovery.sent")}</p>` : html`
      <p>${t("recovery.forgot_intro")}</p>
      <form onSubmit=${submit} aria-labelledby="forgot-title">
        <label>${t("auth.email")}<input name="email" type="email" required autocomplete="email"
          aria-describedby=${error ? "forgot-error" : undefined} /></label>
        ${error && html`<p role="alert" class="error" id="forgot-error">${error}</p>`}
        <button type="submit">${t("recovery.send_link")}</button>
      </form>`}
    <button type="button" class="link" onClick=${onBack}>${t("recovery.back_to_login")}</button>
  </section>`;
}

function Done({ text }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<p class="notice" role="status" tabindex="-1" ref=${ref}>${text}</p>
    <p><a href="#/">${t(state.user ? "recovery.continue" : "recovery.back_to_login")}</a></p>`;
}

function ResetForm({ token }) {
  const [done, setDone] = useState(false);
  const [error, setError] = useState("");
  async function submit(event) {
    event.preventDefault();
    try {
      await confirmReset(token, new FormData(event.target).get("password"));
      setError("");
      setDone(true);
    } catch (err) {
      setError(t("recovery.failed", { message: errorMessage(err) }));
      event.target.querySelector("[name=password]")?.focus();
    }
  }
  if (done) return html`<${Done} text=${t("recovery.reset_done")} />`;
  return html`<form onSubmit=${submit} aria-labelledby="link-title">
    <label>${t("recovery.new_password")}<input name="password" type="password" required minlength="8"
      autocomplete="new-password" aria-invalid=${error ? "true" : undefined}
      aria-describedby=${error ? "link-error" : undefined} /></label>
    ${error && html`<p role="alert" class="error" id="link-error">${error}</p>`}
    <button type="submit">${t("recovery.reset_submit")}</button>
  </form>`;
}

// Verify and email links confirm as the page opens (a POST: a scanner fetching the link's
// URL changes nothing).
function Confirming({ kind, token }) {
  const [result, setResult] = useState(null); // null | "done" | error text
  useEffect(() => {
    const confirm = kind === "verify" ? confirmVerification : confirmEmailChange;
    confirm(token).then(() => setResult("done"),
      (err) => setResult(t("recovery.failed", { message: errorMessage(err) })));
  }, [kind, token]);
  if (result === null) return html`<p role="status">${t("recovery.verifying")}</p>`;
  if (result === "done") return html`<${Done} text=${t(kind === "verify" ? "recovery.verify_done" : "recovery.email_done")} />`;
  return html`<p role="alert" class="error">${result}</p>
    <p><a href="#/">${t(state.user ? "recovery.continue" : "recovery.back_to_login")}</a></p>`;
}

const TITLES = { reset: "recovery.reset_title", verify: "recovery.verify_title", email: "recovery.email_title" };

export function MailedLinkPage({ link }) {
  return html`<section class="recovery" aria-labelledby="link-title">
    <h2 id="link-title">${t(TITLES[link.kind])}</h2>
    ${link.kind === "reset" ? html`<${ResetForm} token=${link.token} />` : html`<${Confirming} ...${link} />`}
  </section>`;
}
