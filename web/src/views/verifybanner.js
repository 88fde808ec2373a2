// "Confirm your email address" above every page while the member's address is not verified,
// with a button that mails the link again. Where the node requires a verified address to post
// (limits.email_verification), it says so.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { resendVerification } from "../subjects/account.js";

export function VerifyBanner() {
  const [note, setNote] = useState("");
  if (!state.user || state.user.guest || state.user.email_verified !== false) return null;
  const required = state.limits?.email_verification === "required";
  async function resend() {
    try {
      await resendVerification();
      setNote(t("verify.resent"));
    } catch (err) {
      setNote(t("recovery.failed", { message: errorMessage(err) }));
    }
  }
  // No landmark of its own: a line of text and a button at the top of the page's main.
  return html`<div class="verify-banner">
    <p>${t(required ? "verify.banner_required" : "verify.banner")}</p>
    <button type="button" onClick=${resend}>${t("verify.resend")}</button>
    <p role="status" class="verify-note">${note}</p>
  </div>`;
}
