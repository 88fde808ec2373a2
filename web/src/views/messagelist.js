// A room's message list, virtualised. Every loaded message stays in state (data.messages); the
// DOM holds one window of them, [start, end), never more than MAX_DOM rows:
// - following the live end, the window is the latest LIVE_DOM messages and new ones scroll in;
// - once the reader scrolls away from the end the window freezes (by seq), so new messages do
//   not move what they read, and "Jump to latest" brings them back (so does sending);
// - near the top it slides back STEP messages, loading older pages over HTTP (one page ahead)
//   as it nears the first loaded one; near the bottom it slides forward. The message on
//   screen stays put. The keyboard scrolls the focusable list, and so slides it too.
//
// Keeping it put: Chrome's scroll anchoring (CSS overflow-anchor, on by default) moves
// scrollTop when rows above the viewport come or go, and applies that at the layout a
// measurement forces, but not at scrollTop 0 (the scroll origin is never anchored; both
// checked in Chromium 156). So after a slide we measure where the message that was on screen
// went and scroll by what is left: nothing when Chrome anchored, the whole shift at the top
// (or in a browser without scroll anchoring). Never both: that would jump twice as far.
import { Component } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { t } from "../subjects/language.js";
import { loadOlder } from "../subjects/messages.js";
import { Message } from "./message.js";

const LIVE_DOM = 200; // rows in the DOM while following the live end
const MAX_DOM = 300; // rows in the DOM at most, wherever the reader is
const STEP = 50; // rows added on one side (and dropped on the other) by one slide
const AT_END_PX = 40; // this close to the bottom counts as following

const live = (room) => ({ room, live: true });

// First index whose seq is >= seq (data.messages is in seq order).
function indexOfSeq(messages, seq) {
  let lo = 0;
  let hi = messages.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (messages[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function windowOf(view, messages) {
  if (view.live) return [Math.max(0, messages.length - LIVE_DOM), messages.length];
  return [indexOfSeq(messages, view.first), indexOfSeq(messages, view.last + 1)];
}

function frozen(room, messages, start, end) {
  if (end <= start) return live(room);
  return { room, live: false, first: messages[start].seq, last: messages[end - 1].seq };
}

// The row on screen at the list's top edge, and how far below that edge it starts.
function onScreen(list) {
  const rows = list.querySelector("ol").children;
  const top = list.getBoundingClientRect().top;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) { // the first row whose bottom is below the top edge
    const mid = (lo + hi) >> 1;
    if (rows[mid].getBoundingClientRect().bottom <= top) lo = mid + 1;
    else hi = mid;
  }
  const row = rows[lo];
  return row?.dataset.id ? { id: row.dataset.id, offset: row.getBoundingClientRect().top - top } : null;
}

function putBack(list, kept) {
  const row = [...list.querySelector("ol").children].find((el) => el.dataset.id === kept.id);
  if (!row) return;
  const shift = row.getBoundingClientRect().top - list.getBoundingClientRect().top - kept.offset;
  if (Math.abs(shift) >= 1) list.scrollTop += shift;
}

// A row re-renders only when its message changed, so a render while 50 messages a second
// arrive costs the new rows, not every row's sanitising and time formatting again
// (docs/benchmarks.md, "Browser client"). subjects/messages.js replaces a message's fields
// (reactions get a new object) and never edits nested ones, so a shallow comparison with the
// fields last rendered is exact. Message's own state (editing, versions) still re-renders it directly.
// CONTEXT lists what Message reads from state besides its message: when Message starts reading
// something else from state, add it here, or its rows will not follow the change.
const CONTEXT = () => [state.lang, state.user, state.profile?.time_zone, state.rooms, state.editing];

class Row extends Component {
  shouldComponentUpdate({ room, message }) {
    if (room !== this.props.room || CONTEXT().some((v, i) => v !== this.seenContext[i])) return true;
    let fields = 0;
    for (const key in message) {
      if (message[key] !== this.seen[key]) return true;
      fields += 1;
    }
    return fields !== this.fields;
  }

  render({ room, message }) {
    this.seen = { ...message };
    this.fields = Object.keys(message).length;
    this.seenContext = CONTEXT();
    return html`<${Message} room=${room} message=${message} />`;
  }
}

export function MessageList({ room, data }) {
  const listRef = useRef(null);
  const viewRef = useRef(live(room)); // {room, live} or {room, live: false, first, last} (seqs)
  const atEnd = useRef(true); // scrolled to the bottom, as of the last scroll event
  const kept = useRef(null); // the row to keep in place across the next render
  const busy = useRef(false); // a slide back is waiting for older pages
  const fetching = useRef(null); // the older page on its way (a promise), if any
  const sent = useRef(new Set()); // the reader's pending sends seen so far
  const [, rerender] = useState(0);

  if (viewRef.current.room !== room) {
    viewRef.current = live(room);
    atEnd.current = true;
    kept.current = null;
  }
  const view = viewRef.current;
  const [start, end] = windowOf(view, data.messages);
  const shown = data.messages.slice(start, end);
  const pending = [...state.sending.entries()].filter(([, s]) => s.room === room);
  const showPending = end === data.messages.length;

  function show(next) {
    viewRef.current = next;
    rerender((n) => n + 1);
  }

  function slideTo(list, from, to) {
    kept.current = onScreen(list);
    show(frozen(room, data.messages, from, to));
  }

  // Older pages come over HTTP one step ahead: once the window is within STEP of the first
  // loaded message, the next page is fetched while the reader still reads.
  function fetchOlder() {
    if (!fetching.current && !data.atStart) {
      fetching.current = loadOlder(room).catch(() => false).finally(() => { fetching.current = null; });
    }
    return fetching.current;
  }

  async function slideBack(list) {
    if (busy.current) return;
    busy.current = true;
    try {
      // Freeze first: older pages must not reach the DOM before the slide keeps the view put.
      let [from, to] = windowOf(viewRef.current, data.messages);
      viewRef.current = frozen(room, data.messages, from, to);
      while (from < STEP && !data.atStart) {
        const more = await (fetching.current || fetchOlder());
        if (viewRef.current.room !== room) return;
        [from, to] = windowOf(viewRef.current, data.messages);
        if (!more) break; // no page came (failed, or none left): slide with what there is
      }
      const first = Math.max(0, from - STEP);
      slideTo(list, first, Math.min(to, first + MAX_DOM));
      if (first < STEP) fetchOlder();
    } finally {
      busy.current = false;
    }
  }

  function onScroll(event) {
    const list = event.currentTarget;
    const gap = list.scrollHeight - list.scrollTop - list.clientHeight;
    atEnd.current = gap < AT_END_PX;
    if (busy.current) return;
    const near = Math.max(list.clientHeight, 200);
    const current = viewRef.current;
    const [from, to] = windowOf(current, data.messages);
    const last = data.messages.length;
    if (list.scrollTop < near && (from > 0 || !data.atStart)) {
      slideBack(list);
    } else if (!current.live && gap < near && to < last) {
      const next = Math.min(last, to + STEP);
      slideTo(list, Math.max(from, next - MAX_DOM), next);
    } else if (!current.live && atEnd.current && to === last) {
      show(live(room)); // back at the end: follow again
    } else if (current.live && !atEnd.current) {
      show(frozen(room, data.messages, from, to)); // scrolled away: new messages stay out
    }
  }

  function toLatest() {
    atEnd.current = true;
    kept.current = null;
    show(live(room));
  }

  function jumpToLatest() { // the button goes away: focus stays in the list
    toLatest();
    listRef.current?.focus({ preventScroll: true });
  }

  useLayoutEffect(() => {
    const list = listRef.current;
    if (!list) return;
    // The reader's own new send brings them to the latest, where it shows as pending.
    const mine = pending.map(([cid]) => cid);
    const newSend = mine.some((cid) => !sent.current.has(cid));
    sent.current = new Set(mine);
    if (newSend && !viewRef.current.live) {
      toLatest(); // focus stays in the composer
      return;
    }
    if (kept.current) putBack(list, kept.current);
    else if (viewRef.current.live && atEnd.current) list.scrollTop = list.scrollHeight;
    kept.current = null;
  });

  const atStart = data.atStart && start === 0;
  return html`<div class="messages" ref=${listRef} onScroll=${onScroll} tabindex="0" aria-label=${t("room.messages")}>
    ${atStart && html`<p class="muted start">${t("room.start")}</p>`}
    ${!atStart && html`<button type="button" class="link" onClick=${() => slideBack(listRef.current)}>${t("room.older")}</button>`}
    <ol>
      ${shown.map((message) => html`<${Row} key=${message.id} room=${room} message=${message} />`)}
      ${showPending && pending.map(([cid, s]) => html`<li key=${cid} class="msg pending"><div class="meta"><strong>${state.user.name}</strong> <span>${t("room.sending")}</span></div><p>${s.body}</p></li>`)}
    </ol>
    ${!view.live && html`<button type="button" class="jump-latest" onClick=${jumpToLatest}>${t("room.latest")}</button>`}
  </div>`;
}
