// A room's message list: the latest messages, older pages loaded on scrolling up, the sends not
// yet acknowledged, and a bounded number of messages in the DOM.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { loadOlder, state, t } from "../state.js";
import { Message } from "./message.js";

const WINDOW = 200; // messages kept in the DOM while following the live end

export function MessageList({ room, data }) {
  const listRef = useRef(null);
  const follow = useRef(true);
  const [windowSize, setWindowSize] = useState(WINDOW);
  useEffect(() => {
    follow.current = true;
    setWindowSize(WINDOW);
  }, [room]);

  const shown = data.messages.slice(-windowSize);
  const pending = [...state.sending.entries()].filter(([, s]) => s.room === room);

  useLayoutEffect(() => {
    const list = listRef.current;
    if (list && follow.current) list.scrollTop = list.scrollHeight;
  });

  async function onScroll(event) {
    const list = event.currentTarget;
    follow.current = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    if (follow.current && windowSize > WINDOW) setWindowSize(WINDOW);
    if (list.scrollTop < 30) {
      const before = list.scrollHeight;
      if (data.messages.length > windowSize) setWindowSize(windowSize + WINDOW);
      else if (!(await loadOlder(room))) return;
      else setWindowSize(windowSize + WINDOW);
      requestAnimationFrame(() => { list.scrollTop += list.scrollHeight - before; });
    }
  }

  return html`<div class="messages" ref=${listRef} onScroll=${onScroll} tabindex="0" aria-label=${t("room.messages")}>
    ${data.atStart && html`<p class="muted start">${t("room.start")}</p>`}
    ${!data.atStart && html`<button type="button" class="link" onClick=${() => { setWindowSize(windowSize + WINDOW); loadOlder(room); }}>${t("room.older")}</button>`}
    <ol>
      ${shown.map((message) => html`<${Message} key=${message.id} room=${room} message=${message} />`)}
      ${pending.map(([cid, s]) => html`<li key=${cid} class="msg pending"><div class="meta"><strong>${state.user.name}</strong> <span>${t("room.sending")}</span></div><p>${s.body}</p></li>`)}
    </ol>
  </div>`;
}
