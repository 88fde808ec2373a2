// Before adding someone to a direct conversation: they would see all of its earlier messages,
// so ask. Add them here (and they see the history), or start a new conversation with everyone
// here and them (no history). A modal <dialog> like the confirmation (focus inside, Escape
// cancels, focus goes back where it was); focus starts on Cancel.
import { html } from "../html.js";
import { t } from "../subjects/language.js";
import { useModal } from "./confirm.js";

export function AddChoice({ name, onAdd, onNew, onCancel }) {
  const modal = useModal(onCancel);
  return html`<dialog ...${modal} class="confirm add-choice" aria-modal="true"
      aria-labelledby="add-choice-title" aria-describedby="add-choice-text">
    <h2 id="add-choice-title">${t("direct.add_title", { name })}</h2>
    <p id="add-choice-text">${t("direct.add_history", { name })}</p>
    <div class="choices">
      <button type="button" onClick=${onAdd}>${t("direct.add_here", { name })}</button>
      <button type="button" onClick=${onNew}>${t("direct.add_new", { name })}</button>
      <button type="button" class="cancel" onClick=${onCancel}>${t("room.cancel")}</button>
    </div>
  </dialog>`;
}
