// The Export dialog (docs/protocol.md, "Exports"): a room's, topic's or webinar's transcript as
// a file. Format (each with what it is for), time range (presets, or dates: both optional),
// time zone (the member's, the zone picker) and the language of the file's labels (the UI's).
// A modal <dialog> labelled by its title: the browser keeps focus inside, Escape and Cancel
// close it (aborting a download under way), focus goes back to the Export button. The file is
// fetched, so the server's refusal (too long for a PDF, exports busy) shows here, in the
// member's language; the fields shared with the admins' compliance export are here too.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { LANGUAGES } from "../i18n.js";
import { myZone } from "../format.js";
import { state } from "../state.js";
import { FORMATS, presetRange, saveExport, transcriptPath } from "../subjects/exports.js";
import { errorMessage, t } from "../subjects/language.js";
import { useModal } from "./confirm.js";
import { ZoneSelect } from "./zonepicker.js";

const PRESETS = ["all", "today", "week", "month", "custom"];
const FIELDS = ["format", "from", "to", "tz", "lang"];
// A field's problem as the server names it, said in the member's language (else its own words):
// the dates are the member's to choose, and a date field can only hold a date, so a refused
// one is outside the years an export may name.
const PROBLEMS = { from: "export.invalid_date", to: "export.invalid_date", tz: "export.invalid_tz" };

export function initialExport() {
  return { format: "markdown", preset: "all", from: "", to: "", tz: myZone() || "UTC", lang: state.lang };
}

// What is wrong with the fields before asking the server: field -> problem.
export function checkRange(form) {
  if (form.from && form.to && form.from > form.to) return { to: t("export.to_before_from") };
  return {};
}

const sizeText = (bytes) => bytes < 1024 * 1024 ? t("export.kb", { n: Math.max(1, Math.round(bytes / 1024)) })
  : t("export.mb", { n: (bytes / (1024 * 1024)).toFixed(1) });

// The server's refusal, in the member's language: field problems go beside their fields.
export function refusal(err) {
  if (err.code === "invalid" && err.details && typeof err.details === "object") {
    const fields = {};
    for (const [key, problem] of Object.entries(err.details)) {
      const field = key === "time_zone" ? "tz" : key;
      if (FIELDS.includes(field)) fields[field] = PROBLEMS[field] ? t(PROBLEMS[field]) : String(problem);
    }
    if (Object.keys(fields).length) return { message: t("export.fix_fields"), fields };
  }
  if (err.code === "export_busy" && err.retryAfter) {
    return { message: t("export.busy_wait", { n: err.retryAfter }), fields: {} };
  }
  if (err.status === undefined) return { message: t("export.network"), fields: {} }; // no answer at all
  return { message: errorMessage(err), fields: {} };
}

// Downloading: {busy, bytes, saved, error, fields, run(path), abort()}.
export function useDownload() {
  const [status, setStatus] = useState({ busy: false, bytes: 0, saved: "", error: "", fields: {} });
  const controller = useRef(null);
  useEffect(() => () => controller.current?.abort(), []); // gone (another view): stop reading
  async function run(path) {
    controller.current?.abort();
    const own = new AbortController();
    controller.current = own;
    setStatus({ busy: true, bytes: 0, saved: "", error: "", fields: {} });
    try {
      const saved = await saveExport(path, { signal: own.signal,
        onProgress: (bytes) => controller.current === own && setStatus((s) => ({ ...s, bytes })) });
      if (controller.current === own) setStatus({ busy: false, bytes: 0, saved, error: "", fields: {} });
      return true;
    } catch (err) {
      if (err.name === "AbortError" || controller.current !== own) return false;
      const { message, fields } = refusal(err);
      setStatus({ busy: false, bytes: 0, saved: "", error: message, fields });
      return false;
    }
  }
  return {
    ...status,
    run,
    abort: () => controller.current?.abort(),
    invalid: (fields) => setStatus({ busy: false, bytes: 0, saved: "", error: t("export.fix_fields"), fields }),
  };
}

// Where the download stands: preparing (bytes so far), saved as …, or the error.
export function DownloadStatus({ download, id }) {
  return html`<div class="export-status">
    <p role="status" id=${`${id}-status`}>${download.busy
      ? (download.bytes ? t("export.receiving", { size: sizeText(download.bytes) }) : t("export.preparing"))
      : download.saved ? t("export.saved", { name: download.saved }) : ""}</p>
    ${download.error && html`<p role="alert" class="error" id=${`${id}-error`}>${download.error}</p>`}
  </div>`;
}

const marked = (id, fields, key) => fields[key]
  ? { "aria-invalid": "true", "aria-describedby": `${id}-${key}-error` } : {};

function FieldError({ id, fields, name }) {
  if (!fields[name]) return null;
  return html`<p class="field-error" id=${`${id}-${name}-error`}>${fields[name]}</p>`;
}

// Format, range, zone and language: `id` prefixes the fields' ids; `fields`: field -> problem.
export function ExportFields({ id, form, setForm, fields = {} }) {
  const set = (key) => (event) => setForm({ ...form, [key]: event.target.value });
  function choosePreset(event) {
    const preset = event.target.value;
    if (preset === "custom") { setForm({ ...form, preset }); return; }
    const [from, to] = presetRange(preset, form.tz);
    setForm({ ...form, preset, from, to });
  }
  const setDate = (key) => (event) => setForm({ ...form, [key]: event.target.value, preset: "custom" });
  function setZone(event) { // a preset's days are days in the zone: another zone, other days
    const tz = event.target.value;
    if (form.preset === "all" || form.preset === "custom") { setForm({ ...form, tz }); return; }
    const [from, to] = presetRange(form.preset, tz);
    setForm({ ...form, tz, from, to });
  }
  return html`
    <fieldset class="export-formats" ...${marked(id, fields, "format")}><legend>${t("export.format")}</legend>
      ${FORMATS.map((format) => html`<label class="check format">
        <input type="radio" name=${`${id}-format`} value=${format} checked=${form.format === format}
          aria-describedby=${`${id}-format-${format}-hint`} onChange=${() => setForm({ ...form, format })} />
        <span><span class="format-name">${t(`export.format.${format}`)}</span>
          <span class="hint" id=${`${id}-format-${format}-hint`}>${t(`export.format_hint.${format}`)}</span></span>
      </label>`)}
      <${FieldError} id=${id} fields=${fields} name="format" />
    </fieldset>
    <fieldset class="export-range"><legend>${t("export.range")}</legend>
      <div class="field"><label for=${`${id}-preset`}>${t("export.preset")}</label>
        <select id=${`${id}-preset`} value=${form.preset} onChange=${choosePreset}>
          ${PRESETS.map((p) => html`<option value=${p}>${t(`export.preset.${p}`)}</option>`)}
        </select></div>
      <div class="dates">
        <div class="field"><label for=${`${id}-from`}>${t("export.from")}</label>
          <input id=${`${id}-from`} type="date" value=${form.from} max=${form.to || undefined} onInput=${setDate("from")}
            ...${marked(id, fields, "from")} /><${FieldError} id=${id} fields=${fields} name="from" /></div>
        <div class="field"><label for=${`${id}-to`}>${t("export.to")}</label>
          <input id=${`${id}-to`} type="date" value=${form.to} min=${form.from || undefined} onInput=${setDate("to")}
            ...${marked(id, fields, "to")} /><${FieldError} id=${id} fields=${fields} name="to" /></div>
      </div>
      <p class="hint">${t("export.range_hint")}</p>
    </fieldset>
    <div class="field"><label for=${`${id}-tz`}>${t("export.tz")}</label>
      <${ZoneSelect} id=${`${id}-tz`} value=${form.tz} onChange=${setZone} ...${marked(id, fields, "tz")} />
      <${FieldError} id=${id} fields=${fields} name="tz" /></div>
    <div class="field"><label for=${`${id}-lang`}>${t("export.lang")}</label>
      <select id=${`${id}-lang`} value=${form.lang} onChange=${set("lang")} ...${marked(id, fields, "lang")}>
        ${Object.entries(LANGUAGES).map(([code, name]) => html`<option value=${code} lang=${code === "zh" ? "zh-Hans" : "en"}>${name}</option>`)}
      </select><${FieldError} id=${id} fields=${fields} name="lang" /></div>`;
}

// The first field with a problem takes the focus.
export function focusFirst(root, id, fields) {
  const first = FIELDS.find((key) => fields[key]);
  if (!first) return;
  const target = first === "format" ? root?.querySelector(`input[name="${id}-format"]:checked`) : root?.querySelector(`#${id}-${first}`);
  target?.focus();
}

// `scope`: "room" | "topic" | "webinar"; `id`: its id; `title`: its name, shown in the title.
export function ExportDialog({ scope, id, title, onClose }) {
  const download = useDownload();
  const close = () => { download.abort(); onClose(); };
  const modal = useModal(close);
  const [form, setForm] = useState(initialExport);
  useLayoutEffect(() => { // the first choice takes the focus, not Cancel: nothing here is lost by a key
    modal.ref.current?.querySelector('input[name="export-format"]:checked')?.focus();
  }, []);
  useEffect(() => focusFirst(modal.ref.current, "export", download.fields), [download.fields]);
  async function submit(event) {
    event.preventDefault();
    if (download.busy) return;
    const problems = checkRange(form);
    if (Object.keys(problems).length) download.invalid(problems);
    else await download.run(transcriptPath(scope, id, form));
  }
  return html`<dialog ...${modal} class="export-dialog" aria-labelledby="export-title" aria-describedby="export-what">
    <form onSubmit=${submit} novalidate>
      <h2 id="export-title">${t("export.title", { name: title })}</h2>
      <p id="export-what" class="muted">${t(`export.what.${scope}`)}</p>
      <${ExportFields} id="export" form=${form} setForm=${setForm} fields=${download.fields} />
      <${DownloadStatus} download=${download} id="export" />
      <div class="buttons">
        <button type="button" class="cancel" onClick=${close}>${t(download.saved ? "export.close" : "room.cancel")}</button>
        <button type="submit" aria-disabled=${download.busy ? "true" : undefined}>${t("export.download")}</button>
      </div>
    </form>
  </dialog>`;
}

// The header's "Export" button, and its dialog while open.
export function ExportButton({ scope, id, title }) {
  const [open, setOpen] = useState(false);
  return html`<button type="button" class="link export-open" aria-haspopup="dialog" onClick=${() => setOpen(true)}>${t("export.open")}</button>
    ${open && html`<${ExportDialog} scope=${scope} id=${id} title=${title} onClose=${() => setOpen(false)} />`}`;
}
