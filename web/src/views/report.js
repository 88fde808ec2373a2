// The report dialog, opened from a message's actions or a member's profile card: a reason (one
// of five), an optional note, then a thank-you. A modal <dialog> (focus starts on Cancel;
// Escape closes it; focus goes back where it was).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { fileReport, REASONS } from "../subjects/moderation.js";
import { useModal } from "./confirm.js";

// `target`: {room, message_id} (a message) or {member} (a member); `name` is whom it is about.
export function ReportDialog({ target, name, onClose }) {
  const modal = useModal(onClose);
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState("");
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);
  const about = target.member ? t("report.about_member", { name }) : t("report.about_message", { name });
  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    if (!reason) {
      setError(t("report.reason_needed"));
      document.getElementById("report-reason-spam")?.focus();
      return;
    }
    setBusy(true);
    try {
      await fileReport(target, reason, note.trim());
      setDone(true);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }
  return html`<dialog ...${modal} class="report-dialog" aria-labelledby="report-title" aria-describedby="report-about">
    <h2 id="report-title">${t("report.title")}</h2>
    <p id="report-about">${about}</p>
    ${done
      ? html`<p role="status" class="notice">${t("report.thanks")}</p>
        <div class="buttons"><button type="button" class="cancel" onClick=${onClose}>${t("card.close")}</button></div>`
      : html`<form onSubmit=${submit} novalidate>
        <fieldset aria-invalid=${error && !reason ? "true" : undefined}
            aria-describedby=${error ? "report-error" : undefined}><legend>${t("report.reason")}</legend>
          ${REASONS.map((r) => html`<label class="check"><input type="radio" name="report-reason" id=${`report-reason-${r}`}
            value=${r} checked=${reason === r} onChange=${() => { setReason(r); setError(""); }} /> ${t(`report.reason.${r}`)}</label>`)}
        </fieldset>
        <div class="field"><label for="report-note">${t("report.note")}</label>
          <textarea id="report-note" maxlength="1000" rows="3" value=${note} onInput=${(e) => setNote(e.target.value)}></textarea></div>
        ${error && html`<p role="alert" class="error" id="report-error">${error}</p>`}
        <div class="buttons">
          <button type="button" class="cancel" onClick=${onClose}>${t("room.cancel")}</button>
          <button type="submit" aria-disabled=${busy ? "true" : undefined}>${t("report.send")}</button>
        </div>
      </form>`}
  </dialog>`;
}
