// Administration (admins only; the sidebar links it for them): the compliance export (several
// or all rooms, direct conversations included, for a time range: one zip of transcripts, GET
// /api/v1/admin/export) and the audit log that records every such export (GET
// /api/v1/admin/audit), newest first, with "Load more".
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { compliancePath, isAdmin, loadAudit } from "../subjects/exports.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { checkRange, DownloadStatus, ExportFields, focusFirst, initialExport, useDownload } from "./exportdialog.js";

function ComplianceExport({ onDone }) {
  const download = useDownload();
  const [form, setForm] = useState(() => ({ ...initialExport(), all: true, rooms: [], more: "" }));
  const [roomsError, setRoomsError] = useState("");
  useEffect(() => focusFirst(document.querySelector("form.compliance"), "compliance", download.fields), [download.fields]);
  const toggleRoom = (id) => setForm({ ...form, rooms: form.rooms.includes(id) ? form.rooms.filter((r) => r !== id) : [...form.rooms, id] });
  async function submit(event) {
    event.preventDefault();
    if (download.busy) return;
    const rooms = [...form.rooms, ...form.more.split(/[\s,]+/).filter(Boolean)];
    if (!form.all && !rooms.length) {
      setRoomsError(t("admin.rooms_needed"));
      document.getElementById("compliance-all")?.focus();
      return;
    }
    setRoomsError("");
    const problems = checkRange(form);
    if (Object.keys(problems).length) { download.invalid(problems); return; }
    if (await download.run(compliancePath({ ...form, rooms }))) onDone();
  }
  return html`<section class="compliance" aria-labelledby="compliance-title">
    <h3 id="compliance-title">${t("admin.compliance")}</h3>
    <p id="compliance-what">${t("admin.compliance_what")}</p>
    <form class="compliance" onSubmit=${submit} novalidate aria-labelledby="compliance-title" aria-describedby="compliance-what">
      <fieldset class="compliance-rooms" aria-invalid=${roomsError ? "true" : undefined}
          aria-describedby=${roomsError ? "compliance-rooms-error" : undefined}><legend>${t("admin.rooms")}</legend>
        <label class="check"><input type="checkbox" id="compliance-all" checked=${form.all}
          onChange=${(e) => setForm({ ...form, all: e.target.checked })} /> ${t("admin.all_rooms")}</label>
        ${!form.all && html`${state.rooms.map((room) => html`<label class="check"><input type="checkbox" value=${room.id}
            checked=${form.rooms.includes(room.id)} onChange=${() => toggleRoom(room.id)} /> ${roomTitle(room)}</label>`)}
          <div class="field"><label for="compliance-more">${t("admin.more_rooms")}</label>
            <input id="compliance-more" value=${form.more} onInput=${(e) => setForm({ ...form, more: e.target.value })} /></div>`}
        ${roomsError && html`<p class="field-error" id="compliance-rooms-error">${roomsError}</p>`}
      </fieldset>
      <${ExportFields} id="compliance" form=${form} setForm=${setForm} fields=${download.fields} />
      <${DownloadStatus} download=${download} id="compliance" />
      <button type="submit" aria-disabled=${download.busy ? "true" : undefined}>${t("admin.compliance_download")}</button>
    </form>
  </section>`;
}

// One audit entry's facts (`detail`: rooms, range, zone, format …) as "key: value" pairs.
function details(entry) {
  return Object.entries(entry.detail || {}).filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : typeof v === "object" ? JSON.stringify(v) : v}`).join(" · ");
}

// An action named in the reader's language where we have words for it, else as the server says it.
function actionName(action) {
  const key = `admin.action.${action}`;
  const named = t(key);
  return named === key ? action : named;
}

function AuditLog({ version }) {
  const [entries, setEntries] = useState(null);
  const [next, setNext] = useState(null);
  const [error, setError] = useState("");
  async function load(before) {
    try {
      const page = await loadAudit(before);
      setEntries((known) => (before && known ? [...known, ...page.entries] : page.entries));
      setNext(page.next);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  useEffect(() => { load(null); }, [version]);
  return html`<section class="audit" aria-labelledby="audit-title">
    <h3 id="audit-title">${t("admin.audit")}</h3>
    <p>${t("admin.audit_what")}</p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${entries && (entries.length
      ? html`<ol class="audit-list">${entries.map((entry) => html`<li class="audit-entry" data-action=${entry.action}>
          <time datetime=${entry.at}>${formatTime(entry.at)}</time>
          <span class="who">${entry.actor?.id ? entry.actor.label : t("admin.operator")}</span>
          <span class="action">${actionName(entry.action)}</span>
          <span class="muted detail">${details(entry)}</span>
        </li>`)}</ol>`
      : html`<p class="muted">${t("admin.audit_empty")}</p>`)}
    ${next !== null && next !== undefined && html`<button type="button" onClick=${() => load(next)}>${t("admin.load_more")}</button>`}
  </section>`;
}

function Admin() {
  const [version, setVersion] = useState(0); // a compliance export made: the log shows it
  if (!isAdmin()) {
    return html`<section class="admin" aria-labelledby="admin-title"><h2 id="admin-title">${t("admin.title")}</h2>
      <p>${t("admin.only")}</p></section>`;
  }
  return html`<section class="admin" aria-labelledby="admin-title">
    <h2 id="admin-title">${t("admin.title")}</h2>
    <${ComplianceExport} onDone=${() => setVersion((v) => v + 1)} />
    <${AuditLog} version=${version} />
  </section>`;
}

registerView({ name: "admin", pattern: "/admin", component: Admin });
