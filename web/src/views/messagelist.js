// A room's message list, virtualised. Every loaded message stays in state (data.messages); the
// DOM holds one window of them, [start, end), never more than MAX_DOM rows:
// - following the live end, the window is the latest LIVE_DOM messages and new ones scroll in;
// - once the reader scrolls away from the end the window freezes (by seq), so new messages do
//   not move what they read, and "Jump to latest" brings them back (so does sending);
// - near the top it slides back STEP messages, loading older pages over HTTP (one page ahead)
//   as it nears the first loaded one; near the bottom it slides forward. The message on
//   screen stays put. The keyboard scrolls the focusable list, and so slides it too;
// - opened at a message (data.focus: a message link, a search result) the window is frozen
//   around it; when the room holds the page around it, behind the live end (data.behind,
//   subjects/messages.js), newer pages come over HTTP as the reader nears the bottom, and
//   "Jump to latest" loads the latest page again.
//
// Keeping it put: Chrome's scroll anchoring (CSS overflow-anchor, on by default) moves
// scrollTop when rows above the viewport come or go, and applies that at the layout a
// measurement forces, but not at scrollTop 0 (the scroll origin is never anchored; both
// checked in Chromium 156). So after a slide we measure where the message that was on screen
// went and scroll by what is left: nothing when Chrome anchored, the whole shift at the top
// (or in a browser without scroll anchoring). Never both: that would jump twice as far.
//
// Reading it: a line for each day ("Today", "Yesterday", a date, in the reader's language and
// zone), consecutive messages of one person within GROUP_MS under one name and time, and with
// unread messages a "new messages" line: the room opens there, and what has been on screen
// counts as read (subjects/current.js, seenUpTo), the rest keeps its count.
//
// The keyboard: the whole list is ONE tab stop (the list itself); Up and Down move between
// messages, Home and End go to the first and the latest, Enter opens the focused message's
// tools (views/message.js) and Escape comes back to it. Every button and link inside a
// message is out of the tab order (tabindex -1, see fence) unless its tools are open or it is
// in a form or dialog there, so Tab from the list goes straight on to the message box.
import { Component } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { dayKey, dayLabel } from "../format.js";
import { state } from "../state.js";
import { seenUpTo } from "../subjects/current.js";
import { t } from "../subjects/language.js";
import { loadLatestAgain, loadNewer, loadOlder } from "../subjects/messages.js";
import { roomInfo } from "../subjects/rooms.js";
import { Message } from "./message.js";
import { EventLine, eventsBetween } from "./timeline.js";

const LIVE_DOM = 200; // rows in the DOM while following the live end
const MAX_DOM = 300; // rows in the DOM at most, wherever the reader is
const STEP = 50; // rows added on one side (and dropped on the other) by one slide
const AT_END_PX = 40; // this close to the bottom counts as following
const GROUP_MS = 5 * 60 * 1000; // one person's messages this close together share a name and time

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
  let row = rows[lo];
  // a day or "new messages" line goes with the message under it (its key follows the window's edge)
  while (row && !row.classList.contains("msg")) row = row.nextElementSibling;
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
const CONTEXT = () => [state.lang, state.user, state.profile?.time_zone, state.rooms, state.editing, state.blocked];

class Row extends Component {
  shouldComponentUpdate({ room, message, grouped }) {
    if (room !== this.props.room || grouped !== this.props.grouped || CONTEXT().some((v, i) => v !== this.seenContext[i])) return true;
    let fields = 0;
    for (const key in message) {
      if (message[key] !== this.seen[key]) return true;
      fields += 1;
    }
    return fields !== this.fields;
  }

  render({ room, message, grouped }) {
    this.seen = { ...message };
    this.fields = Object.keys(message).length;
    this.seenContext = CONTEXT();
    return html`<${Message} room=${room} message=${message} grouped=${grouped} />`;
  }
}

// A message's day in the reader's zone, worked out once per message and zone.
const days = new WeakMap();
function dayOf(message) {
  const zone = state.profile?.time_zone;
  let known = days.get(message);
  if (!known || known.zone !== zone) {
    known = { zone, key: dayKey(message.sent_at) };
    days.set(message, known);
  }
  return known.key;
}

// Whether a message goes under the one before it (same person, shortly after). A message
// first shown without the one before it loaded (the edge of the loaded history) keeps its name
// when older pages come in: a row changing its own height there would move what the reader
// has on screen (Chrome anchors scrolling on an element inside it).
const grouping = new WeakMap();
function groupedUnder(message, prev, sameRun) {
  const known = grouping.get(message);
  if (known && known.prev === null && prev) return false;
  const grouped = Boolean(prev && sameRun && !prev.deleted && prev.author?.id === message.author?.id
    && Date.parse(message.sent_at) - Date.parse(prev.sent_at) < GROUP_MS);
  grouping.set(message, { prev: prev ? prev.id : (known ? known.prev : null), grouped });
  return grouped;
}

// The rows: a day line where the day changes, the "new messages" line before the first
// message after newAfter (the read position the room was opened with), and each message,
// grouped under the one before when the same person wrote it shortly before. `behind`: the
// messages after the last loaded one are not loaded yet, so no line goes after it.
function rows(room, messages, start, end, newAfter, atStart, events, behind) {
  const items = [];
  let prev = start > 0 ? messages[start - 1] : null;
  const line = (e) => html`<${EventLine} key=${e.key} event=${e} />`; // status, membership lines
  let lined = false; // a line came after the message before: the next one starts a run
  if (start === 0) items.push(...eventsBetween(events, -Infinity, messages.length ? messages[0].seq : Infinity).map(line));
  for (let i = start; i < end; i++) {
    const message = messages[i];
    const day = dayOf(message);
    const newDay = !prev || dayOf(prev) !== day;
    if (newDay) {
      items.push(html`<li key=${`day-${message.id}`} data-id=${`day-${message.id}`} class="day">${dayLabel(message.sent_at)}</li>`);
    }
    // (the line only where the message before it is loaded: else it is not the first unread)
    const newHere = newAfter !== null && newAfter !== undefined && message.seq > newAfter
      && (prev ? prev.seq <= newAfter : i === 0 && atStart);
    if (newHere) items.push(html`<li key="new-line" data-id="new-line" class="new-line">${t("room.new_line")}</li>`);
    const grouped = groupedUnder(message, prev, !newDay && !newHere && !lined);
    items.push(html`<${Row} key=${message.id} room=${room} message=${message} grouped=${grouped} />`);
    const after = eventsBetween(events, message.seq, i + 1 < messages.length ? messages[i + 1].seq : behind ? message.seq : Infinity);
    items.push(...after.map(line));
    lined = after.length > 0;
    prev = message;
  }
  return items;
}

// Buttons and links inside messages leave the tab order (marked data-fenced), except in a
// message whose tools are open and in forms and dialogs (editing, confirming, a topic).
const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
function fence(root) {
  const found = root.matches?.(FOCUSABLE) ? [root, ...root.querySelectorAll(FOCUSABLE)] : root.querySelectorAll?.(FOCUSABLE) || [];
  for (const el of found) {
    if (el.matches("li.msg")) continue;
    if (el.closest("li.msg.tools-open, form, dialog, [role=dialog]")) {
      if (el.dataset.fenced) {
        el.removeAttribute("tabindex");
        delete el.dataset.fenced;
      }
    } else if (el.getAttribute("tabindex") !== "-1") {
      el.setAttribute("tabindex", "-1");
      el.dataset.fenced = "1";
    }
  }
}

function useFence(listRef) {
  useLayoutEffect(() => {
    const ol = listRef.current?.querySelector("ol");
    if (!ol) return undefined;
    fence(ol);
    const observer = new MutationObserver((records) => {
      for (const record of records) {
        if (record.type === "attributes" || record.target !== ol) fence(record.target.closest?.("li") || record.target);
        else record.addedNodes.forEach((node) => node.nodeType === 1 && fence(node));
      }
    });
    observer.observe(ol, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
    return () => observer.disconnect();
  }, []);
}

// The last message wholly on screen (its seq), if any.
function lastOnScreen(list) {
  // On screen means inside the list and inside the window: a list laid out taller than the
  // window for a moment (before its column has its height) has not shown its lower rows.
  const bottom = Math.min(list.getBoundingClientRect().bottom, window.innerHeight) + 1;
  const shown = list.querySelectorAll("ol > li.msg[data-seq]");
  for (let i = shown.length - 1; i >= 0; i--) {
    const box = shown[i].getBoundingClientRect();
    if (box.bottom <= bottom && box.height > 0) return Number(shown[i].dataset.seq);
  }
  return null;
}

export function MessageList({ room, data }) {
  const listRef = useRef(null);
  const viewRef = useRef(live(room)); // {room, live} or {room, live: false, first, last} (seqs)
  const atEnd = useRef(true); // scrolled to the bottom, as of the last scroll event
  const kept = useRef(null); // the row to keep in place across the next render
  const busy = useRef(false); // a slide back is waiting for older pages
  const fetching = useRef(null); // the older page on its way (a promise), if any
  const sent = useRef(new Set()); // the reader's pending sends seen so far
  const placed = useRef(null); // the room whose "new messages" line was brought on screen
  const focusLast = useRef(false); // End was pressed: focus the latest message once shown
  // The data.focus the window was last put around: one set before this list was drawn (an
  // earlier visit to the room) is not a new one.
  const focused = useRef(data.focus);
  const [, rerender] = useState(0);
  useFence(listRef);

  if (viewRef.current.room !== room) {
    viewRef.current = live(room);
    atEnd.current = true;
    kept.current = null;
    placed.current = null;
    focused.current = data.focus;
  }
  if (data.focus && focused.current !== data.focus) { // opened at a message: the window around it
    const at = data.messages.findIndex((m) => m.id === data.focus.id);
    if (at >= 0) {
      focused.current = data.focus;
      const first = Math.max(0, at - STEP / 2);
      viewRef.current = frozen(room, data.messages, first, Math.min(data.messages.length, first + STEP));
      atEnd.current = false;
      kept.current = null;
      placed.current = room; // (not the "new messages" line's place)
    }
  }
  const view = viewRef.current;
  const [start, end] = windowOf(view, data.messages);
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
        // Another room, or the reader went to the latest meanwhile (End, "Jump to latest", a
        // send): sliding now would freeze the list away from the live end they asked for.
        if (viewRef.current.room !== room || viewRef.current.live) return;
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

  // Newer pages, while the room is behind its live end: the window slides on as they come.
  function fetchNewer(list) {
    if (busy.current) return;
    busy.current = true;
    loadNewer(room).then((more) => {
      if (!more || viewRef.current.room !== room || viewRef.current.live) return;
      const [from, to] = windowOf(viewRef.current, data.messages);
      const next = Math.min(data.messages.length, to + STEP);
      slideTo(list, Math.max(from, next - MAX_DOM), next);
    }).finally(() => { busy.current = false; });
  }

  // What has been on screen is read: only asked while the room has unread messages.
  function reportSeen(list) {
    if (!(roomInfo(room)?.unread > 0)) return;
    const seq = lastOnScreen(list);
    if (seq !== null) seenUpTo(room, seq);
  }

  function onKeyDown(event) {
    const list = listRef.current;
    const target = event.target;
    const onRow = target.matches?.("li.msg[data-id]");
    if ((target !== list && !onRow) || event.altKey || event.ctrlKey || event.metaKey) return;
    const all = [...list.querySelectorAll("ol > li.msg[data-id]")];
    if (!all.length) return;
    let next = null;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const down = event.key === "ArrowDown";
      if (onRow) {
        next = all[all.indexOf(target) + (down ? 1 : -1)];
        if (!next && !down) slideBack(list); // at the top of the window: older ones come in
      } else { // from the list itself: the last message on screen
        const seq = lastOnScreen(list);
        next = all.find((row) => Number(row.dataset.seq) === seq) || all[all.length - 1];
      }
    } else if (event.key === "Home" && onRow) { // on the list itself Home and End scroll it
      next = all[0];
    } else if (event.key === "End" && onRow) {
      event.preventDefault();
      if (!viewRef.current.live) {
        focusLast.current = true;
        toLatest();
        return;
      }
      next = all[all.length - 1];
    } else {
      return;
    }
    event.preventDefault();
    next?.focus();
  }

  function onScroll(event) {
    const list = event.currentTarget;
    reportSeen(list);
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
    } else if (data.behind && gap < near && to === last) {
      fetchNewer(list);
    } else if (!current.live && atEnd.current && to === last && !data.behind) {
      show(live(room)); // back at the end: follow again
    } else if (current.live && !atEnd.current) {
      show(frozen(room, data.messages, from, to)); // scrolled away: new messages stay out
    }
  }

  function toLatest() {
    atEnd.current = true;
    kept.current = null;
    if (data.behind) loadLatestAgain(room).catch(() => {}).finally(() => show(live(room)));
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
    if (data.newAfter !== null && data.newAfter !== undefined && placed.current !== room) {
      const line = list.querySelector("ol > .new-line");
      if (line) { // opened with unread messages: the first of them at the top, not the latest
        placed.current = room;
        list.scrollTop += line.getBoundingClientRect().top - list.getBoundingClientRect().top;
        atEnd.current = list.scrollHeight - list.scrollTop - list.clientHeight < AT_END_PX;
        if (!atEnd.current) viewRef.current = frozen(room, data.messages, start, end);
        kept.current = null;
        reportSeen(list);
        return;
      }
      if (data.loaded) placed.current = room; // its first unread is not loaded: the latest, as usual
    }
    if (kept.current) putBack(list, kept.current);
    else if (viewRef.current.live && atEnd.current) list.scrollTop = list.scrollHeight;
    kept.current = null;
    if (focusLast.current) {
      focusLast.current = false;
      const all = list.querySelectorAll("ol > li.msg[data-id]");
      all[all.length - 1]?.focus();
    }
    reportSeen(list);
  });

  const atStart = data.atStart && start === 0;
  return html`<div class="messages" ref=${listRef} onScroll=${onScroll} onKeyDown=${onKeyDown} tabindex="0" aria-label=${t("room.messages")} aria-describedby="message-keys">
    <p id="message-keys" class="visually-hidden">${t("room.message_keys")}</p>
    ${atStart && html`<p class="muted start">${t("room.start")}</p>`}
    ${!atStart && html`<button type="button" class="link" tabindex="-1" onClick=${() => slideBack(listRef.current)}>${t("room.older")}</button>`}
    <ol>
      ${rows(room, data.messages, start, end, data.newAfter, data.atStart, data.events, data.behind)}
      ${showPending && pending.map(([cid, s]) => html`<li key=${cid} class="msg pending"><div class="meta"><strong>${state.user.name}</strong> <span>${t("room.sending")}</span></div><p>${s.body}</p>${s.attachments?.length ? html`<p class="muted">${s.attachments.map((a) => `📎 ${a.name}`).join(", ")}</p>` : ""}</li>`)}
    </ol>
    ${(!view.live || data.behind) && html`<button type="button" class="jump-latest" onClick=${jumpToLatest}>${t("room.latest")}</button>`}
  </div>`;
}
