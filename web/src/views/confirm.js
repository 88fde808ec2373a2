// A confirmation asked before something that cannot be undone (deleting a message, leaving a
// conversation): a modal <dialog> (the browser keeps focus inside it; Escape cancels),
// announced as an alertdialog with its question; focus starts on Cancel, the safe answer,
// and goes back where it was when the dialog closes.
import { useLayoutEffect, useRef } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../subjects/language.js";

let dialogs = 0;

// What every modal dialog here shares: open with the render (a key pressed next is the
// dialog's), focus its Cancel, Escape and the browser's own close cancel, and focus goes back
// where it was when it closes (else, with `toComposer`, to the message box). Spread `props`
// on the <dialog>.
export function useModal(onCancel, { toComposer = false } = {}) {
  const ref = useRef(null);
  const gone = useRef(false);
  useLayoutEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement;
    dialog.showModal();
    dialog.querySelector("button.cancel")?.focus();
    return () => {
      gone.current = true;
      if (dialog.open) dialog.close();
      if (before && before.isConnected) before.focus();
      else if (toComposer) document.getElementById("composer")?.focus();
    };
  }, []);
  return {
    ref,
    onKeyDown: (e) => { if (e.key === "Escape") { e.preventDefault(); onCancel(); } },
    onclose: () => { if (!gone.current) onCancel(); },
  };
}

export function ConfirmDialog({ title, text, confirmLabel, onConfirm, onCancel }) {
  const modal = useModal(onCancel, { toComposer: true });
  const ids = useRef(`confirm-${(dialogs += 1)}`);
  const id = ids.current;
  return html`<dialog ...${modal} class="confirm" role="alertdialog" aria-modal="true"
      aria-labelledby=${`${id}-title`} aria-describedby=${`${id}-text`}>
    <h2 id=${`${id}-title`}>${title}</h2>
    <p id=${`${id}-text`}>${text}</p>
    <div class="buttons">
      <button type="button" class="cancel" onClick=${onCancel}>${t("room.cancel")}</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmLabel}</button>
    </div>
  </dialog>`;
}
