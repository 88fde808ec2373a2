// The account page's two-factor section (order 40): set up (the password first, then the QR
// code and the secret to type,
// then a code from the app turns it on and the recovery codes are shown once), new recovery
// codes, turning it off (password and a code). TwoFactorNotice: the shell's banner sending staff
// whom the operator requires it of here.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { beginTwoFactor, disableTwoFactor, enableTwoFactor, loadTwoFactor, mustSetUpTwoFactor,
  newRecoveryCodes } from "../subjects/security.js";
import { registerAccountSection } from "./account.js";

// An answer the member can act on: a wrong password or code said as such.
function problem(err) {
  if (err.code === "unauthorized") return t("security.wrong");
  if (err.code === "second_factor_required") return t("security.code_needed");
  return errorMessage(err);
}

const codeInput = (id, label) => html`<label for=${id}>${label}</label>
  <input id=${id} name="code" required maxlength="32" autocomplete="one-time-code" spellcheck=${false} />`;

function RecoveryCodes({ codes, onDone }) {
  return html`<div class="recovery-codes" role="group" aria-labelledby="twofactor-codes-title">
    <h4 id="twofactor-codes-title">${t("twofactor.codes_title")}</h4>
    <p>${t("twofactor.codes_help")}</p>
    <ol class="codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ol>
    <button type="button" onClick=${onDone}>${t("twofactor.codes_saved")}</button>
  </div>`;
}

function Setup({ onEnabled }) {
  const [pending, setPending] = useState(null);
  const [error, setError] = useState("");
  async function begin(event) {
    event.preventDefault();
    const password = new FormData(event.target).get("password");
    try { setPending(await beginTwoFactor(password)); setError(""); } catch (err) { setError(problem(err)); }
  }
  async function enable(event) {
    event.preventDefault();
    try {
      onEnabled(await enableTwoFactor(new FormData(event.target).get("code")));
    } catch (err) { setError(problem(err)); }
  }
  if (!pending) {
    return html`<p>${t("twofactor.off")}</p>
      <form class="stack" onSubmit=${begin} aria-label=${t("twofactor.begin")}>
        <p>${t("twofactor.begin_password")}</p>
        <label for="twofactor-begin-password">${t("auth.password")}</label>
        <input id="twofactor-begin-password" name="password" type="password" required autocomplete="current-password" />
        ${error && html`<p role="alert" class="error">${error}</p>`}
        <button type="submit">${t("twofactor.begin")}</button>
      </form>`;
  }
  // The QR code is the server's own SVG (segno), no markup from elsewhere.
  return html`<ol class="steps">
      <li>${t("twofactor.step_scan")}
        <div class="qr" role="img" aria-label=${t("twofactor.qr_label")} dangerouslySetInnerHTML=${{ __html: pending.qr_svg }}></div>
        <p>${t("twofactor.step_type")} <code class="secret">${pending.secret.replace(/(.{4})/g, "$1 ").trim()}</code></p></li>
      <li>${t("twofactor.step_code")}</li>
    </ol>
    <form class="stack" onSubmit=${enable} aria-label=${t("twofactor.enable")}>
      ${codeInput("twofactor-enable-code", t("twofactor.code"))}
      ${error && html`<p role="alert" class="error">${error}</p>`}
      <button type="submit">${t("twofactor.enable")}</button>
    </form>`;
}

function Enabled({ status, onCodes, onOff }) {
  const [error, setError] = useState("");
  async function regenerate(event) {
    event.preventDefault();
    try { onCodes(await newRecoveryCodes(new FormData(event.target).get("code"))); } catch (err) { setError(problem(err)); }
  }
  async function off(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try { await disableTwoFactor(form.get("password"), form.get("code")); onOff(); } catch (err) { setError(problem(err)); }
  }
  return html`<p class="on">${t("twofactor.on", { count: status.recovery_codes_left })}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <form class="stack" onSubmit=${regenerate} aria-label=${t("twofactor.regenerate")}>
      ${codeInput("twofactor-regenerate-code", t("twofactor.code"))}
      <button type="submit">${t("twofactor.regenerate")}</button>
    </form>
    ${!status.required && html`<form class="stack" onSubmit=${off} aria-label=${t("twofactor.disable")}>
      <label for="twofactor-off-password">${t("auth.password")}</label>
      <input id="twofactor-off-password" name="password" type="password" required autocomplete="current-password" />
      ${codeInput("twofactor-off-code", t("twofactor.code"))}
      <button type="submit">${t("twofactor.disable")}</button>
    </form>`}`;
}

function TwoFactorSection() {
  const [status, setStatus] = useState(null);
  const [codes, setCodes] = useState(null);
  const refresh = () => loadTwoFactor().then(setStatus).catch(() => {});
  useEffect(() => { refresh(); }, []);
  const shown = (fresh) => { setCodes(fresh); refresh(); };
  return html`<h3 id="account-two-factor-title">${t("twofactor.title")}</h3>
    ${status?.required && !status.enabled && html`<p class="notice" role="status">${t("twofactor.required")}</p>`}
    ${codes ? html`<${RecoveryCodes} codes=${codes} onDone=${() => setCodes(null)} />`
      : status && (status.enabled
        ? html`<${Enabled} status=${status} onCodes=${shown} onOff=${refresh} />`
        : html`<${Setup} onEnabled=${shown} />`)}`;
}

registerAccountSection({ id: "two-factor", order: 40, component: TwoFactorSection });

export function TwoFactorNotice() {
  if (!mustSetUpTwoFactor() || location.hash === "#/account") return null;
  return html`<p class="notice two-factor-notice" role="status">${t("twofactor.required")}
    <a href="#/account">${t("twofactor.set_up_now")}</a></p>`;
}
