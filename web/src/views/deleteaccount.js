// The account page's last section (order 90): deleting the account. The member chooses what
// becomes of their messages (kept as "deleted member", or erased), confirms with their password
// (and a code with two-factor on), and is signed out everywhere.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { deleteAccount } from "../subjects/security.js";
import { leave } from "../subjects/session.js";
import { registerAccountSection } from "./account.js";

function DeleteAccountSection() {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const twoFactor = Boolean(state.user?.two_factor?.enabled);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    setBusy(true);
    try {
      await deleteAccount(form.get("password"), form.get("code") || "", form.get("messages"));
      leave();
    } catch (err) {
      setBusy(false);
      setError(err.code === "unauthorized" ? t("security.wrong")
        : err.code === "second_factor_required" ? t("security.code_needed") : errorMessage(err));
    }
  }
  return html`<h3 id="account-delete-title">${t("delete.title")}</h3>
    <p>${t("delete.intro")}</p>
    <form class="stack" onSubmit=${submit} aria-label=${t("delete.title")}>
      <fieldset>
        <legend>${t("delete.messages")}</legend>
        <label class="check"><input type="radio" name="messages" value="keep" checked /> ${t("delete.keep")}</label>
        <label class="check"><input type="radio" name="messages" value="erase" /> ${t("delete.erase")}</label>
      </fieldset>
      <label for="delete-password">${t("auth.password")}</label>
      <input id="delete-password" name="password" type="password" required autocomplete="current-password" />
      ${twoFactor && html`<label for="delete-code">${t("twofactor.code")}</label>
        <input id="delete-code" name="code" required maxlength="32" autocomplete="one-time-code" />`}
      ${error && html`<p role="alert" class="error">${error}</p>`}
      <button type="submit" class="danger" disabled=${busy}>${t("delete.confirm")}</button>
    </form>`;
}

registerAccountSection({ id: "delete", order: 90, component: DeleteAccountSection });
