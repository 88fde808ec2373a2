// Keyboard shortcuts anywhere in the shell (listed under the message box, "keys.hint"):
// Alt+Shift+M goes to the message box, Ctrl+K (⌘K on a Mac) opens the room switcher: a small
// dialog listing the rooms, typing filters them, ↑/↓ choose, Enter opens; below them a
// button searches everything for what was typed, as Enter does when no room matches
// (views/search.js; `/` goes to the search box itself). Neither is a key an
// input method uses (Alt and Ctrl chords, checked by the physical key), and both do nothing
// while a composition is under way.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { searchLink } from "../subjects/search.js";

// Focus to the message box of the room shown; false when no room is shown.
export function focusComposer() {
  const box = document.getElementById("composer");
  box?.focus();
  return Boolean(box);
}

function matches(room, query) {
  const q = query.trim().toLowerCase();
  return !q || roomTitle(room).toLowerCase().includes(q) || room.id.includes(q);
}

function RoomSwitcher({ onClose }) {
  const ref = useRef(null);
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const gone = useRef(false);
  useLayoutEffect(() => {
    const dialog = ref.current;
    const before = document.activeElement;
    dialog.showModal();
    dialog.querySelector("input").focus();
    return () => {
      gone.current = true;
      if (dialog.open) dialog.close();
      if (before?.isConnected) before.focus();
    };
  }, []);
  const found = state.rooms.filter((room) => matches(room, query)).slice(0, 30);
  const current = found[Math.min(active, found.length - 1)];
  function open(room) {
    onClose();
    location.hash = `#/room/${room.id}`;
  }
  function search() {
    onClose();
    location.hash = searchLink({ q: query.trim() });
  }
  function onKeyDown(event) {
    if (event.isComposing || event.keyCode === 229) return;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && found.length) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((Math.min(active, found.length - 1) + step + found.length) % found.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (current) open(current);
      else if (query.trim()) search();
    }
  }
  return html`<dialog ref=${ref} class="switcher" aria-labelledby="switcher-title"
      onKeyDown=${(e) => { if (e.key === "Escape") { e.preventDefault(); onClose(); } }}
      onclose=${() => { if (!gone.current) onClose(); }}>
    <h2 id="switcher-title">${t("switcher.title")}</h2>
    <label for="switcher-q">${t("switcher.filter")}</label>
    <input id="switcher-q" type="text" role="combobox" autocomplete="off" value=${query}
      aria-autocomplete="list" aria-expanded="true" aria-controls="switcher-list"
      aria-activedescendant=${current ? `switch-${current.id}` : undefined}
      onInput=${(e) => { setQuery(e.target.value); setActive(0); }} onKeyDown=${onKeyDown} />
    <ul id="switcher-list" role="listbox" aria-label=${t("switcher.rooms")}>
      ${found.map((room) => html`<li id=${`switch-${room.id}`} role="option"
          aria-selected=${room === current ? "true" : "false"} class=${room === current ? "active" : undefined}
          onMouseDown=${(e) => e.preventDefault()} onClick=${() => open(room)}>
        ${roomTitle(room)}${room.unread > 0 ? html` <span class="badge">${room.unread}</span>` : ""}
      </li>`)}
    </ul>
    ${query.trim() && html`<button type="button" class="switch-search" onClick=${search}>${t("switcher.search", { q: query.trim() })}</button>`}
    <p class="visually-hidden" role="status">${t("switcher.found", { count: found.length })}</p>
    <button type="button" class="link" onClick=${onClose}>${t("room.cancel")}</button>
  </dialog>`;
}

export function Shortcuts() {
  const [switching, setSwitching] = useState(false);
  useEffect(() => {
    function onKey(event) {
      if (event.isComposing || event.keyCode === 229) return;
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.code === "KeyK") {
        event.preventDefault(); // the browser's own Ctrl+K (search) too
        setSwitching(true);
      } else if (event.altKey && event.shiftKey && !event.ctrlKey && !event.metaKey && event.code === "KeyM") {
        event.preventDefault();
        focusComposer();
      }
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  return switching ? html`<${RoomSwitcher} onClose=${() => setSwitching(false)} />` : null;
}
