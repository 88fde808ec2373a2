// A small grid of common emoji to react with: a button opens it, the arrow keys (and Home,
// End) move between the emoji, Enter or a click reacts, Escape or Tab away closes it and
// focus goes back to the button. One tab stop inside (roving tabindex).
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { t } from "../subjects/language.js";

export const PICKER_EMOJIS = ["👍", "❤️", "🎉", "😄", "🙏", "👏", "🤝", "💡", "✅", "❓", "🌱", "🌍",
                              "♻️", "⚡", "💧", "🏙️", "🚲", "🚆"];
const COLUMNS = 6;

export function EmojiPicker({ id, onPick }) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const grid = useRef(null);
  const trigger = useRef(null);
  useLayoutEffect(() => {
    if (open) grid.current?.querySelectorAll("button")[active]?.focus();
  }, [open, active]);

  function close() {
    setOpen(false);
    trigger.current?.focus();
  }
  function onKeyDown(event) {
    const count = PICKER_EMOJIS.length;
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS };
    if (event.key in moves) {
      event.preventDefault();
      const next = active + moves[event.key];
      if (next >= 0 && next < count) setActive(next);
    } else if (event.key === "Home") {
      event.preventDefault();
      setActive(0);
    } else if (event.key === "End") {
      event.preventDefault();
      setActive(count - 1);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  }
  function pick(emoji) {
    onPick(emoji);
    close();
  }
  const rows = [];
  for (let i = 0; i < PICKER_EMOJIS.length; i += COLUMNS) rows.push(PICKER_EMOJIS.slice(i, i + COLUMNS));
  return html`<span class="emoji-picker">
    <button type="button" class="tool" ref=${trigger} aria-expanded=${open ? "true" : "false"}
      aria-controls=${id} onClick=${() => (open ? close() : (setActive(0), setOpen(true)))}>${t("emoji.open")}</button>
    ${open && html`<div id=${id} class="emoji-grid" role="group" aria-label=${t("emoji.label")}
        ref=${grid} onKeyDown=${onKeyDown}
        onfocusout=${(e) => { if (!e.currentTarget.contains(e.relatedTarget)) setOpen(false); }}>
      ${rows.map((row, r) => html`<div class="emoji-row">
        ${row.map((emoji, c) => {
          const index = r * COLUMNS + c;
          return html`<button type="button" tabindex=${index === active ? "0" : "-1"}
            aria-label=${t("room.react", { emoji })} onClick=${() => pick(emoji)}
            onFocus=${() => setActive(index)}>${emoji}</button>`;
        })}
      </div>`)}
    </div>`}
  </span>`;
}
