// The message box under a room: Enter sends, Shift+Enter adds a line, typing is announced,
// ↑ in an empty box edits the member's last message. Each room has its own draft (kept across
// reloads, subjects/drafts.js); the shell keys this view by room, so nothing typed in one room
// is ever sent to another. Near the server's length limit a counter shows what is left; over
// it the box says so and Enter sends nothing (the text stays).
// "@" and a few letters (any script) offer members to mention: those online in the room first,
// then the member directory. The textarea keeps its textbox role (ARIA 1.2 allows neither
// aria-expanded on a textbox nor role=combobox on a textarea) and drives a listbox through
// aria-controls and aria-activedescendant; a status line says how many were found. Picking
// inserts "@Name " and the send carries that member's id while the name is still in the body.
// Files are attached by the 📎 button, by dropping them on the room or by pasting them (an
// image copied): each uploads at once with its progress and Cancel; Send waits until they are
// all uploaded, then sends the text and the files in one message (a message may be files alone).
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { searchMembers } from "../subjects/directory.js";
import { Avatar } from "./people.js";
import { t } from "../subjects/language.js";
import { draftFor, setDraft } from "../subjects/drafts.js";
import { roomData } from "../subjects/messages.js";
import { lastOwnMessage, sendMessage, startEditing, takeReturnedFiles } from "../subjects/outbox.js";
import { typing } from "../subjects/presence.js";
import { AttachButton, MAX_ATTACHMENTS, UploadChips, pastedFiles, useUploads } from "./attachments.js";

const MAX_OPTIONS = 8;
const LOOKUP_DELAY_MS = 150; // the directory is asked once typing pauses
// "@" at the start or after a non-word character, then a letter or digit and up to 31 more,
// and at most one more word after a space: "@Li Hua" finds 李华 as "@lihua" does. At most 64
// characters in all, the directory search's limit.
const WORD = (more) => `[\\p{L}\\p{N}][\\p{L}\\p{M}\\p{N}_.'-]{0,${more}}`;
const MENTION = new RegExp(`(?:^|[^\\p{L}\\p{M}\\p{N}_])@(${WORD(31)}(?: ${WORD(30)})?)$`, "u");

// The "@name" being typed just before the caret: {start (of the "@"), query}, or null.
export function mentionAt(text, caret) {
  const match = MENTION.exec(text.slice(0, caret));
  return match ? { start: caret - match[1].length - 1, query: match[1] } : null;
}

function rank(name, query) {
  const lower = name.toLowerCase();
  if (lower.startsWith(query)) return 0;
  return lower.split(/\s+/).some((word) => word.startsWith(query)) ? 1 : 2;
}

function onlineMatches(room, query) {
  const q = query.toLowerCase();
  const found = [];
  for (const [id, name] of roomData(room).presence) {
    if (id !== state.user.id && name.toLowerCase().includes(q)) found.push({ id, name, online: true });
  }
  return found.sort((a, b) => rank(a.name, q) - rank(b.name, q) || a.name.localeCompare(b.name));
}

const optionId = (option) => `mention-${option.id}`;

// The server counts a body in code points (Python's len), not in UTF-16 units.
export const bodyLength = (text) => [...text].length;
// The counter shows from this share of the limit on.
const COUNTER_FROM = 0.9;

// What is left before the limit, and whether to show it: {length, max, left, show, over}.
function budget(text) {
  const max = state.limits.max_body_chars;
  const length = bodyLength(text);
  if (!max) return { length, max, left: Infinity, show: false, over: false };
  return { length, max, left: max - length, show: length >= max * COUNTER_FROM, over: length > max };
}

export function Composer({ room }) {
  const body = draftFor(room);
  const setBody = (text) => setDraft(room, text);
  const [popup, setPopup] = useState(null); // {start, query, options, active}
  const picked = useRef(new Map()); // user id -> the name inserted for them
  const box = useRef(null);
  const lookup = useRef({ timer: 0, seq: 0 });
  const dismissed = useRef(-1); // where the "@" is whose list Escape closed
  const uploads = useUploads();
  const [waiting, setWaiting] = useState(false); // Send pressed while files were uploading
  const [dropping, setDropping] = useState(false);
  const [note, setNote] = useState(""); // what happened to files that could not be added
  const formRef = useRef(null);

  // A webinar's guest may not upload (docs/protocol.md, "Guests (webinars)"): no files to add.
  const mayAttach = !state.user.guest;
  function addFiles(files) {
    if (!mayAttach) return;
    const left = uploads.add(files);
    setNote(left ? t("attach.too_many", { max: MAX_ATTACHMENTS, count: left }) : "");
  }

  // Files dropped anywhere on the room attach here.
  useEffect(() => {
    const area = formRef.current?.closest(".room") || formRef.current;
    if (!area) return undefined;
    const carriesFiles = (e) => mayAttach && [...(e.dataTransfer?.types || [])].includes("Files");
    const over = (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      setDropping(true);
    };
    const leave = (e) => { if (!area.contains(e.relatedTarget)) setDropping(false); };
    const drop = (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      setDropping(false);
      addFiles(e.dataTransfer.files);
    };
    area.addEventListener("dragover", over);
    area.addEventListener("dragleave", leave);
    area.addEventListener("drop", drop);
    return () => {
      area.removeEventListener("dragover", over);
      area.removeEventListener("dragleave", leave);
      area.removeEventListener("drop", drop);
    };
  }, []);

  // A refused send's files come back here, with its text.
  const returned = state.returnedFiles.get(room);
  useEffect(() => {
    const files = returned && takeReturnedFiles(room);
    if (files) uploads.restore(files);
  }, [returned]);

  // Send was pressed while uploading: it goes once the last one is in (not if one failed).
  useEffect(() => {
    if (!waiting || uploads.busy) return;
    setWaiting(false);
    if (!uploads.failed) submit();
  }, [waiting, uploads.busy, uploads.failed]);

  function close() {
    clearTimeout(lookup.current.timer);
    lookup.current.seq += 1; // answers still on their way are stale now
    setPopup(null);
  }

  useEffect(() => {
    picked.current.clear();
    close();
  }, [room]);
  useEffect(() => () => clearTimeout(lookup.current.timer), []);

  function update(text, caret) {
    const found = mentionAt(text, caret);
    if (!found) dismissed.current = -1;
    if (!found || found.start === dismissed.current) return close();
    const online = onlineMatches(room, found.query).slice(0, MAX_OPTIONS);
    clearTimeout(lookup.current.timer);
    const seq = ++lookup.current.seq;
    setPopup({ ...found, options: online, active: 0 });
    if (state.user.guest) return; // a guest may not search the directory: the online ones only
    lookup.current.timer = setTimeout(async () => {
      let members;
      try {
        members = await searchMembers({ q: found.query, limit: String(MAX_OPTIONS + 1) });
      } catch {
        return; // the online ones stay offered
      }
      if (seq !== lookup.current.seq) return; // typed on since: a newer question is out
      // Who is who, for the online ones too: two online of one name differ by these.
      const detail = (m) => [m.alt_name, m.organisation, m.city].filter(Boolean).join(" · ");
      const byId = new Map(members.map((m) => [m.id, m]));
      const known = new Set(online.map((o) => o.id));
      const here = online.map((o) => (byId.has(o.id) ? { ...o, detail: detail(byId.get(o.id)) } : o));
      const more = members.filter((m) => m.id !== state.user.id && !known.has(m.id))
        .map((m) => ({ id: m.id, name: m.display_name, detail: detail(m) }));
      setPopup((p) => p && { ...p, options: [...here, ...more].slice(0, MAX_OPTIONS) });
    }, LOOKUP_DELAY_MS);
  }

  function pick(option) {
    const el = box.current;
    const text = el.value;
    const end = popup.start + 1 + popup.query.length;
    const insert = `@${option.name} `;
    const next = text.slice(0, popup.start) + insert + text.slice(end);
    const caret = popup.start + insert.length;
    picked.current.set(option.id, option.name);
    close();
    // The DOM first, so the caret lands after the name (Preact then finds the value current).
    el.value = next;
    el.setSelectionRange(caret, caret);
    el.focus();
    setBody(next);
  }

  function submit(event) {
    event?.preventDefault();
    // The draft as of the last keystroke: renders come once per frame, so `body` above may
    // be a few keys behind a fast typist.
    const text = draftFor(room);
    if (!text.trim() && !uploads.items.length) return;
    if (budget(text).over) {
      box.current?.focus(); // the alert under the box says why; the text stays
      return;
    }
    if (uploads.busy) { // sent when the files are in
      setWaiting(true);
      return;
    }
    if (uploads.failed) {
      box.current?.focus(); // the chip says why; remove it (or it) to send
      return;
    }
    const files = uploads.files();
    const ids = [...picked.current].filter(([, name]) => text.includes(`@${name}`)).map(([id]) => id);
    sendMessage(room, text, ids, files);
    picked.current.clear();
    uploads.clear();
    close();
    setBody("");
  }

  function onPaste(event) {
    const files = pastedFiles(event);
    if (!files.length || !mayAttach) return; // text: the box takes it
    event.preventDefault();
    addFiles(files);
  }

  function onInput(event) {
    const el = event.target;
    setBody(el.value);
    typing(room);
    if (!event.isComposing) update(el.value, el.selectionStart); // else at compositionend
  }

  function onKeyDown(event) {
    if (event.isComposing || event.keyCode === 229) return; // the input method owns these keys
    const count = popup ? popup.options.length : 0;
    if (count) {
      const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        setPopup({ ...popup, active: (popup.active + step + count) % count });
        return;
      }
      if ((event.key === "Enter" || event.key === "Tab") && plain) {
        event.preventDefault(); // picks; does not send or leave the box
        pick(popup.options[popup.active]);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        dismissed.current = popup.start;
        close();
        return;
      }
    }
    if (event.key === "Enter" && !event.shiftKey) submit(event);
    if (event.key === "ArrowUp" && !event.target.value && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey) {
      const last = lastOwnMessage(room);
      if (last) {
        event.preventDefault();
        startEditing(room, last.id);
      }
    }
  }

  // The caret moved without typing: the list follows it.
  function onKeyUp(event) {
    if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) update(event.target.value, event.target.selectionStart);
  }

  const open = Boolean(popup && popup.options.length);
  const left = budget(body);
  // `oncompositionend` in lower case: Preact adds an event it does not know by the name given.
  return html`<form class=${dropping ? "composer dropping" : "composer"} ref=${formRef} onSubmit=${submit}>
    <label for="composer">${t("room.compose")}</label>
    <textarea id="composer" ref=${box} rows="2" value=${body}
      aria-describedby=${left.show ? "composer-hint composer-count" : "composer-hint"}
      aria-invalid=${left.over ? "true" : undefined}
      aria-autocomplete="list" aria-haspopup="listbox" aria-controls="mention-list"
      aria-activedescendant=${open ? optionId(popup.options[popup.active]) : undefined}
      onInput=${onInput} onKeyDown=${onKeyDown} onKeyUp=${onKeyUp} onPaste=${onPaste}
      onClick=${(e) => update(e.target.value, e.target.selectionStart)}
      oncompositionend=${(e) => update(e.target.value, e.target.selectionStart)}
      onBlur=${close}></textarea>
    <ul id="mention-list" class="mention-list" role="listbox" aria-label=${t("mention.label")} hidden=${!open}>
      ${open && popup.options.map((option, i) => html`<li id=${optionId(option)} role="option"
          aria-selected=${i === popup.active ? "true" : "false"} class=${i === popup.active ? "active" : undefined}
          onMouseDown=${(e) => e.preventDefault()} onClick=${() => pick(option)}>
          <${Avatar} id=${option.id} name=${option.name} />
          <span class="name">${option.name}</span>
          ${option.online && html`<span class="muted">${t("mention.online")}</span>`}
          ${option.detail && html`<span class="muted">${option.detail}</span>`}
        </li>`)}
    </ul>
    <p class="visually-hidden" role="status">${open ? t("mention.found", { count: popup.options.length }) : ""}</p>
    <p id="composer-hint" class="hint">${t("room.compose_hint")}</p>
    <p class="hint keys">${t("keys.hint")}</p>
    ${left.show && html`<p id="composer-count" class=${left.over ? "counter error" : "counter"}
      role=${left.over ? "alert" : undefined}>${left.over
        ? t("compose.too_long", { over: -left.left, max: left.max })
        : t("compose.left", { left: left.left, max: left.max })}</p>`}
    <button type="submit" aria-busy=${waiting ? "true" : undefined}>${t("room.send")}</button>
    <div class="attach-bar">
      ${mayAttach && html`<${AttachButton} uploads=${uploads} id="composer-files" />`}
      <${UploadChips} uploads=${uploads} id="composer-chips" />
      ${waiting && html`<p class="hint" role="status">${t("attach.waiting")}</p>`}
      ${note && html`<p class="error" role="alert">${note}</p>`}
      ${dropping && html`<p class="drop-hint" aria-hidden="true">${t("attach.drop")}</p>`}
    </div>
  </form>`;
}
