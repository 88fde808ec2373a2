// The message box under a room: Enter sends, Shift+Enter adds a line, typing is announced.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { sendMessage, t, typing } from "../state.js";

export function Composer({ room }) {
  const [body, setBody] = useState("");
  function submit(event) {
    event?.preventDefault();
    if (!body.trim()) return;
    sendMessage(room, body);
    setBody("");
  }
  function onKeyDown(event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) submit(event);
  }
  return html`<form class="composer" onSubmit=${submit}>
    <label for="composer">${t("room.compose")}</label>
    <textarea id="composer" rows="2" value=${body} aria-describedby="composer-hint"
      onInput=${(e) => { setBody(e.target.value); typing(room); }} onKeyDown=${onKeyDown}></textarea>
    <p id="composer-hint" class="hint">${t("room.compose_hint")}</p>
    <button type="submit">${t("room.send")}</button>
  </form>`;
}
