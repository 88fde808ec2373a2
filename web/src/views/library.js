// The library view: documents filtered (sector, city, language, type, year, words in a title)
// and sorted (newest, most downloaded, title), page by page; moderators see the proposals
// waiting for review; every member may propose a document with its file (DocumentForm, which
// the document page reuses to edit).
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { sizeText, upload } from "../subjects/uploads.js";
import {
  cityRooms, DOC_LANGUAGES, DOC_TYPES, docTitle, editDocument, listedDocs, loadLibrary, mayCurate, otherTitle, proposeDocument,
  sectorRooms, SORTS,
} from "../subjects/library.js";

const THIS_YEAR = new Date().getFullYear();
const YEARS = Array.from({ length: THIS_YEAR + 2 - 1990 }, (_, i) => THIS_YEAR + 1 - i);

export function DocFacts({ doc }) {
  return html`<span class="doc-facts">
    <span class="tag">${t(`library.type.${doc.type}`)}</span>
    <span class="muted"> ${doc.year} · ${t(`library.language.${doc.language}`)}${doc.source ? ` · ${doc.source}` : ""}</span>
  </span>`;
}

function Card({ doc }) {
  const title = docTitle(doc);
  const other = otherTitle(doc);
  return html`<li class="doc-card" data-id=${doc.id}><article aria-label=${title}>
    <h3><a href=${`#/library/${doc.id}`}>${title}</a>${doc.state !== "published" && html` <span class="tag">${t(`library.state.${doc.state}`)}</span>`}</h3>
    ${other && html`<p class="muted other-title" lang=${state.lang === "zh" ? "en" : "zh-Hans"}>${other}</p>`}
    <p><${DocFacts} doc=${doc} /></p>
    <p class="muted">${[...doc.sectors, ...doc.cities].map((room) => roomTitle(room)).join(" · ")}${
      doc.state === "published" ? ` · ${t("library.downloads", { count: doc.downloads })}` : ""}</p>
  </article></li>`;
}

// A labelled select of [value, text] options (the search page's filters use it too).
export function Select({ id, label, value, onChange, options }) {
  return html`<div class="field"><label for=${id}>${label}</label>
    <select id=${id} value=${value} onChange=${(e) => onChange(e.target.value)}>
      ${options.map(([v, text]) => html`<option value=${v} selected=${v === value}>${text}</option>`)}
    </select></div>`;
}

function Filters({ filters, set }) {
  const any = ["", t("library.any")];
  const put = (key) => (value) => set({ ...filters, [key]: value });
  return html`<form class="library-filters" role="search" aria-label=${t("library.filters")} onSubmit=${(e) => e.preventDefault()}>
    <div class="field"><label for="library-q">${t("library.search")}</label>
      <input id="library-q" type="search" maxlength="100" value=${filters.q} onInput=${(e) => put("q")(e.target.value)} /></div>
    <${Select} id="library-sector" label=${t("library.sector")} value=${filters.sector} onChange=${put("sector")}
      options=${[any, ...sectorRooms().map((r) => [r.id, roomTitle(r)])]} />
    <${Select} id="library-city" label=${t("library.city")} value=${filters.city} onChange=${put("city")}
      options=${[any, ...cityRooms().map((r) => [r.id, roomTitle(r)])]} />
    <${Select} id="library-language" label=${t("library.doc_language")} value=${filters.language} onChange=${put("language")}
      options=${[any, ...DOC_LANGUAGES.map((l) => [l, t(`library.language.${l}`)])]} />
    <${Select} id="library-type" label=${t("library.doc_type")} value=${filters.type} onChange=${put("type")}
      options=${[any, ...DOC_TYPES.map((d) => [d, t(`library.type.${d}`)])]} />
    <${Select} id="library-year" label=${t("library.year")} value=${filters.year} onChange=${put("year")}
      options=${[any, ...YEARS.map((y) => [String(y), String(y)])]} />
    <${Select} id="library-sort" label=${t("library.sort")} value=${filters.sort} onChange=${put("sort")}
      options=${SORTS.map((s) => [s, t(`library.sort.${s}`)])} />
  </form>`;
}

function Checks({ legend, name, rooms, chosen, onChange }) {
  return html`<fieldset class="doc-tags"><legend>${legend}</legend>
    ${rooms.map((room) => html`<label class="check"><input type="checkbox" name=${name} value=${room.id}
      checked=${chosen.includes(room.id)}
      onChange=${(e) => onChange(e.target.checked ? [...chosen, room.id] : chosen.filter((id) => id !== room.id))} />
      ${roomTitle(room)}</label>`)}
  </fieldset>`;
}

// The metadata fields of a document (a proposal, or a moderator's edit: `doc` given). With
// `withFile`, a file to upload first (progress, cancel). onDone(document | null).
export function DocumentForm({ doc = null, withFile = true, onDone }) {
  const [form, setForm] = useState(() => ({
    title_en: doc?.title.en || "", title_zh: doc?.title.zh || "", description: doc?.description || "",
    type: doc?.type || "report", language: doc?.language || (state.lang === "zh" ? "zh" : "en"),
    year: String(doc?.year || THIS_YEAR), source: doc?.source || "", sectors: doc?.sectors || [], cities: doc?.cities || [],
  }));
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [busy, setBusy] = useState(null); // AbortController while uploading
  const [error, setError] = useState("");
  const set = (key) => (e) => setForm({ ...form, [key]: e.target.value });
  async function submit(event) {
    event.preventDefault();
    if (!form.title_en.trim() && !form.title_zh.trim()) return setError(t("library.need_title"));
    if (withFile && !file) return setError(t("library.need_file"));
    const fields = { ...form, year: Number(form.year) };
    const controller = new AbortController();
    setBusy(controller);
    setError("");
    try {
      let saved;
      if (withFile) {
        const wire = await upload(file, { signal: controller.signal, onProgress: (sent, total) => setProgress({ sent, total }) });
        saved = await proposeDocument(fields, wire.id);
      } else {
        saved = await editDocument(doc.id, fields);
      }
      onDone(saved);
    } catch (err) {
      setError(err?.name === "AbortError" ? t("library.upload_cancelled") : t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(null);
      setProgress(null);
    }
  }
  const text = (key, label, max) => html`<div class="field"><label for=${`doc-${key}`}>${t(label)}</label>
    <input id=${`doc-${key}`} value=${form[key]} maxlength=${max} onInput=${set(key)} /></div>`;
  return html`<form class="document-form" onSubmit=${submit} aria-label=${t(doc ? "library.edit" : "library.propose")}>
    ${text("title_en", "library.title_en", 300)}
    ${text("title_zh", "library.title_zh", 300)}
    <div class="field"><label for="doc-description">${t("library.description")}</label>
      <textarea id="doc-description" rows="3" maxlength="5000" value=${form.description} onInput=${set("description")}></textarea></div>
    <${Select} id="doc-type" label=${t("library.doc_type")} value=${form.type} onChange=${(v) => setForm({ ...form, type: v })}
      options=${DOC_TYPES.map((d) => [d, t(`library.type.${d}`)])} />
    <${Select} id="doc-language" label=${t("library.doc_language")} value=${form.language} onChange=${(v) => setForm({ ...form, language: v })}
      options=${DOC_LANGUAGES.map((l) => [l, t(`library.language.${l}`)])} />
    <${Select} id="doc-year" label=${t("library.year")} value=${form.year} onChange=${(v) => setForm({ ...form, year: v })}
      options=${YEARS.map((y) => [String(y), String(y)])} />
    ${text("source", "library.source", 300)}
    <${Checks} legend=${t("library.sectors")} name="sectors" rooms=${sectorRooms()} chosen=${form.sectors}
      onChange=${(sectors) => setForm({ ...form, sectors })} />
    <${Checks} legend=${t("library.cities")} name="cities" rooms=${cityRooms()} chosen=${form.cities}
      onChange=${(cities) => setForm({ ...form, cities })} />
    ${withFile && html`<div class="field"><label for="doc-file">${t("library.file")}</label>
      <input id="doc-file" type="file" onChange=${(e) => setFile(e.target.files[0] || null)} /></div>`}
    ${progress && html`<p><progress max=${progress.total} value=${progress.sent} aria-label=${t("library.uploading")}></progress>
      <span class="muted"> ${sizeText(progress.sent, state.lang)} / ${sizeText(progress.total, state.lang)}</span></p>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <div class="actions">
      <button type="submit" disabled=${!!busy}>${t(doc ? "library.save" : "library.send_proposal")}</button>
      ${busy ? html`<button type="button" class="link" onClick=${() => busy.abort()}>${t("library.cancel_upload")}</button>`
        : html`<button type="button" class="link" onClick=${() => onDone(null)}>${t("library.cancel")}</button>`}
    </div>
  </form>`;
}

const EMPTY = { q: "", sector: "", city: "", language: "", type: "", year: "", sort: "newest" };

function Library() {
  const [filters, setFilters] = useState(EMPTY);
  const [queue, setQueue] = useState("published"); // moderators: "proposed" shows the proposals
  const [proposing, setProposing] = useState(false);
  const [notice, setNotice] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => loadLibrary({ ...filters, state: queue }).then(() => setError(""))
      .catch((err) => setError(t("error.generic", { message: errorMessage(err) }))), filters.q ? 250 : 0);
    return () => clearTimeout(timer);
  }, [filters, queue, state.lang]);
  const list = listedDocs();
  return html`<section class="library" aria-labelledby="library-title">
    <h2 id="library-title">${t("library.title")}</h2>
    <p class="muted">${t("library.about")}</p>
    ${proposing
      ? html`<${DocumentForm} onDone=${(doc) => {
          setProposing(false);
          if (doc) { setNotice(t(doc.state === "published" ? "library.published_now" : "library.proposed_now")); location.hash = `#/library/${doc.id}`; }
        }} />`
      : html`<button type="button" class="propose" onClick=${() => setProposing(true)}>${t("library.propose")}</button>`}
    ${notice && html`<p role="status">${notice}</p>`}
    <div class="webinar-tabs" role="group" aria-label=${t("library.show")}>
      ${["published", "proposed"].map((q) => html`<button type="button" class=${queue === q ? undefined : "link"}
        aria-pressed=${queue === q ? "true" : "false"} onClick=${() => setQueue(q)}>${t(mayCurate() || q === "published" ? `library.queue.${q}` : "library.queue.mine")}</button>`)}
    </div>
    <${Filters} filters=${filters} set=${setFilters} />
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${list && !list.items.length && html`<p class="muted">${t("library.none")}</p>`}
    ${list && list.items.length > 0 && html`<ul class="feed doc-list" aria-label=${t("library.documents")}>
      ${list.items.map((doc) => html`<${Card} key=${doc.id} doc=${doc} />`)}</ul>`}
    ${list?.next && html`<button type="button" class="link" onClick=${() => loadLibrary({ ...filters, state: queue }, true).catch(() => {})}>${t("library.more")}</button>`}
  </section>`;
}

registerView({ name: "library", pattern: "/library", component: Library });
