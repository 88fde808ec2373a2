// Search (docs/protocol.md, "Search"): the box in the header (on a phone a button to the search
// page), the shortcut `/` to it (not while typing somewhere), and the results page
// `#/search?q=…` with its filters (kinds, rooms, dates, language, files, order), each result a
// snippet with its words marked, who wrote it, where and when, and a link that opens it where
// it lives (subjects/search.js, resultLink). Ctrl+K (views/shortcuts.js) offers a search too.
// Snippets are text: the server's words are never HTML here, the marks are <mark> elements.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import {
  filtersOf, KINDS, LANGS, MAX_QUERY_CHARS, ORDERS, resultLink, resultRoom, runSearch, searchLink, searchResults,
  snippetPieces,
} from "../subjects/search.js";
import { Select } from "./library.js";
import { usePhone } from "./phone.js";

// Whether a key press is someone typing (then `/` is a slash, not a shortcut).
function typing(target) {
  return Boolean(target?.closest?.("input, textarea, select, [contenteditable=''], [contenteditable='true']"));
}

// Focus to the search box: the header's, or on the search page its own; on a phone, the page.
export function focusSearch() {
  const box = document.getElementById("search-page-q") || document.getElementById("search-q");
  if (box) {
    box.focus();
    box.select();
    return;
  }
  location.hash = "#/search";
}

// `/` anywhere in the shell but in a field goes to the search box.
export function useSearchShortcut() {
  useEffect(() => {
    function onKey(event) {
      if (event.isComposing || event.keyCode === 229 || event.key !== "/") return;
      if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
      if (!state.user || state.user.guest) return; // (signed out, or a guest: no search box)
      if (document.querySelector("dialog[open]")) return;
      event.preventDefault();
      focusSearch();
    }
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

// The header's box (a phone: a button to the search page, which has its own box).
export function SearchBox() {
  const phone = usePhone();
  const [q, setQ] = useState("");
  if (phone) {
    return html`<a class="search-open" href="#/search" aria-label=${t("search.open")}><span aria-hidden="true">🔍</span></a>`;
  }
  function submit(event) {
    event.preventDefault();
    if (!q.trim()) return;
    location.hash = searchLink({ q: q.trim() }); // a new search: the page's filters are its own
    setQ("");
  }
  return html`<form class="search-box" role="search" aria-label=${t("search.label")} onSubmit=${submit}>
    <label for="search-q" class="visually-hidden">${t("search.label")}</label>
    <input id="search-q" type="search" value=${q} maxlength=${MAX_QUERY_CHARS} placeholder=${t("search.placeholder")}
      autocomplete="off" enterkeyhint="search" aria-keyshortcuts="/" onInput=${(e) => setQ(e.target.value)} />
    <button type="submit">${t("search.go")}</button>
  </form>`;
}

// A snippet: its text, the matched words in <mark> (text nodes only: never the server's HTML).
function Snippet({ snippet, lang }) {
  const pieces = snippetPieces(snippet);
  if (!pieces.length) return null;
  return html`<p class="snippet" lang=${lang === "zh" ? "zh-Hans" : lang === "en" ? "en" : undefined}>${
    pieces.map((piece) => (piece.marked ? html`<mark>${piece.text}</mark>` : piece.text))}</p>`;
}

function Result({ result }) {
  const link = resultLink(result);
  const room = resultRoom(result);
  const kind = t(`search.kind.${result.kind}`);
  const heading = result.title || (room ? t("search.in_room", { room }) : kind);
  const when = formatTime(new Date(result.at_ms).toISOString());
  return html`<li class="search-result" data-kind=${result.kind} data-id=${result.id}><article aria-label=${heading}>
    <h3><span class="tag">${kind}</span> ${link ? html`<a href=${link}>${heading}</a>` : heading}</h3>
    <${Snippet} snippet=${result.snippet} lang=${result.lang} />
    <p class="muted result-meta">
      ${result.author ? html`<span class="result-author">${result.author.name}</span> · ` : ""}
      ${room && result.title ? html`<span class="result-room">${room}</span> · ` : ""}
      <time datetime=${new Date(result.at_ms).toISOString()}>${when}</time>
      ${result.has_files ? html` · <span class="result-files">${t("search.has_files_mark")}</span>` : ""}
    </p>
  </article></li>`;
}

// Several of a list, as checkboxes in a group that folds away (the rooms are many).
function Several({ legend, name, options, chosen, onChange, folded = false }) {
  const boxes = options.map(([value, text]) => html`<label class="check"><input type="checkbox" name=${name} value=${value}
    checked=${chosen.includes(value)}
    onChange=${(e) => onChange(e.target.checked ? [...chosen, value] : chosen.filter((v) => v !== value))} /> ${text}</label>`);
  if (!folded) return html`<fieldset class="search-several"><legend>${legend}</legend>${boxes}</fieldset>`;
  return html`<details class="search-several" open=${chosen.length > 0}>
    <summary>${legend}${chosen.length ? ` (${chosen.length})` : ""}</summary>
    <fieldset><legend class="visually-hidden">${legend}</legend>${boxes}</fieldset>
  </details>`;
}

function Filters({ filters, set }) {
  const put = (key) => (value) => set({ ...filters, [key]: value });
  const rooms = state.rooms.map((room) => [room.id, roomTitle(room)]);
  return html`<div class="search-filters" role="group" aria-label=${t("search.filters")}>
    <${Several} legend=${t("search.kinds")} name="kind" options=${KINDS.map((k) => [k, t(`search.kind.${k}`)])}
      chosen=${filters.kinds} onChange=${put("kinds")} />
    <${Several} legend=${t("search.rooms")} name="room" options=${rooms} chosen=${filters.rooms} onChange=${put("rooms")} folded=${true} />
    <div class="field"><label for="search-since">${t("search.since")}</label>
      <input id="search-since" type="date" value=${filters.since} max=${filters.until || undefined}
        onChange=${(e) => put("since")(e.target.value)} /></div>
    <div class="field"><label for="search-until">${t("search.until")}</label>
      <input id="search-until" type="date" value=${filters.until} min=${filters.since || undefined}
        onChange=${(e) => put("until")(e.target.value)} /></div>
    <${Select} id="search-lang" label=${t("search.language")} value=${filters.lang} onChange=${put("lang")}
      options=${[["", t("search.any")], ...LANGS.map((l) => [l, t(`search.lang.${l}`)])]} />
    <${Select} id="search-files" label=${t("search.files")} value=${filters.files} onChange=${put("files")}
      options=${[["", t("search.any")], ["true", t("search.files.with")], ["false", t("search.files.without")]]} />
    <${Select} id="search-order" label=${t("search.order")} value=${filters.order} onChange=${put("order")}
      options=${ORDERS.map((o) => [o, t(`search.order.${o}`)])} />
  </div>`;
}

// The server's refusal, in the member's language where we have words for it.
function refusal(err) {
  const said = err?.details && typeof err.details === "object" ? Object.values(err.details).filter((v) => typeof v === "string") : [];
  if (err?.status === 400 || err?.status === 422) return t("search.refused", { reason: said.join(" ") || err.message });
  return t("error.generic", { message: errorMessage(err) });
}

function SearchPage({ query }) {
  const filters = filtersOf(query);
  const [q, setQ] = useState(filters.q);
  const [status, setStatus] = useState("idle"); // idle | busy | done | error
  const [error, setError] = useState("");
  const box = useRef(null);
  useEffect(() => setQ(filters.q), [filters.q]);
  // Opened without words (the phone's button, `/` on a phone): ready to type.
  useLayoutEffect(() => { if (!filters.q) box.current?.focus(); }, []);
  useEffect(() => {
    let current = true;
    if (!filters.q.trim()) { setStatus("idle"); return undefined; }
    setStatus("busy");
    runSearch(filters).then(() => { if (current) { setStatus("done"); setError(""); } })
      .catch((err) => { if (current) { setStatus("error"); setError(refusal(err)); } });
    return () => { current = false; };
  }, [query]);
  // A change of filters is a new address in place of this one (Back leaves the search).
  const set = (next) => location.replace(searchLink(next));
  function submit(event) {
    event.preventDefault();
    if (!q.trim()) return;
    location.hash = searchLink({ ...filters, q: q.trim() });
  }
  async function more() {
    try {
      await runSearch(filters, true);
    } catch (err) {
      setError(refusal(err));
    }
  }
  const list = filters.q.trim() ? searchResults() : null;
  // On a phone the filters fold away above the results (open while any is set).
  const phone = usePhone();
  const chosen = filters.kinds.length + filters.rooms.length + ["since", "until", "lang", "files"].filter((k) => filters[k]).length
    + (filters.order !== "newest" ? 1 : 0);
  const count = list?.items.length ?? 0;
  return html`<section class="search-page" aria-labelledby="search-title">
    <h2 id="search-title">${t("search.title")}</h2>
    <form class="search-form" role="search" aria-labelledby="search-title" onSubmit=${submit}>
      <label for="search-page-q">${t("search.words")}</label>
      <div class="search-row">
        <input id="search-page-q" ref=${box} type="search" value=${q} maxlength=${MAX_QUERY_CHARS} autocomplete="off"
          enterkeyhint="search" aria-describedby="search-hint" onInput=${(e) => setQ(e.target.value)} />
        <button type="submit">${t("search.go")}</button>
      </div>
      <p id="search-hint" class="muted">${t("search.hint")}</p>
    </form>
    ${phone
      ? html`<details class="search-more-filters" open=${chosen > 0}>
          <summary>${t("search.filters")}${chosen ? ` (${chosen})` : ""}</summary><${Filters} filters=${filters} set=${set} /></details>`
      : html`<${Filters} filters=${filters} set=${set} />`}
    <p role="status" class="search-status">${
      status === "busy" ? t("search.searching")
        : status === "done" && list ? (count ? t("search.found", { count: list.next ? `${count}+` : count }) : t("search.none")) : ""}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${list && count > 0 && html`<ol class="feed search-results" aria-label=${t("search.results")}>
      ${list.items.map((result) => html`<${Result} key=${`${result.kind}:${result.id}`} result=${result} />`)}</ol>`}
    ${list?.next && html`<button type="button" class="search-more" onClick=${more}>${t("search.more")}</button>`}
  </section>`;
}

registerView({ name: "search", pattern: "/search?", component: SearchPage });
