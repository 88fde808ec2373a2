// A library document's page: its titles and facts, its versions with their download links (the
// earlier ones stay downloadable), a preview of the current version when the server made one,
// where it was discussed (rooms the reader may read), sharing it into a room, and the
// moderators' actions: publish, reject with a reason, withdraw, a new version, edit.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { sizeText, upload } from "../subjects/uploads.js";
import {
  addVersion, cityRooms, docOf, docTitle, downloadLink, isMissing, loadDocument, mayCurate, otherTitle,
  reviewDocument, sectorRooms, shareDocument,
} from "../subjects/library.js";
import { DocFacts, DocumentForm } from "./library.js";

function Versions({ doc }) {
  return html`<section aria-labelledby="doc-versions"><h3 id="doc-versions">${t("library.versions")}</h3>
    <ol class="doc-versions" reversed>
      ${doc.versions.map((v) => html`<li key=${v.version} class="doc-version">
        <a href=${downloadLink(doc.id, v.version)} download=${v.file.name}
          aria-label=${t("library.download_version", { n: v.version, name: v.file.name })}>${t("library.version", { n: v.version })}: ${v.file.name}</a>
        <span class="muted"> · ${sizeText(v.file.size, state.lang)} · ${formatTime(v.at)} · ${v.uploaded_by.name}</span>
        ${v.note && html`<span> · ${v.note}</span>`}
      </li>`)}
    </ol></section>`;
}

function Preview({ doc }) {
  const current = doc.versions?.[0];
  if (!current?.file.preview) return null;
  const { w, h } = current.file.preview;
  const scale = Math.min(1, 320 / w);
  return html`<figure class="doc-preview"><img src=${`/api/v1/files/${encodeURIComponent(current.file.id)}/preview`}
    alt=${t("library.preview_of", { name: current.file.name })} width=${Math.round(w * scale)} height=${Math.round(h * scale)}
    loading="lazy" /></figure>`;
}

function Discussed({ doc }) {
  return html`<section aria-labelledby="doc-discussed"><h3 id="doc-discussed">${t("library.discussed")}</h3>
    ${doc.discussed?.length
      ? html`<ul class="doc-discussed">${doc.discussed.map((d) => html`<li key=${d.message}>
          <a href=${`#/room/${d.room.id}`}>${roomTitle(d.room.id) || d.room.title[state.lang] || d.room.title.en || d.room.id}</a>
          <span class="muted"> · ${formatTime(d.at)}</span></li>`)}</ul>`
      : html`<p class="muted">${t("library.not_discussed")}</p>`}
  </section>`;
}

function Share({ doc }) {
  const [room, setRoom] = useState("");
  const [comment, setComment] = useState("");
  const [note, setNote] = useState("");
  async function share(event) {
    event.preventDefault();
    if (!room) return;
    try {
      await shareDocument(doc.id, room, comment);
      setNote(t("library.shared", { room: roomTitle(room) }));
      setComment("");
    } catch (err) {
      setNote(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const rooms = [...sectorRooms(), ...cityRooms()];
  return html`<form class="doc-share" onSubmit=${share} aria-label=${t("library.share")}>
    <div class="field"><label for="doc-share-room">${t("library.share_to")}</label>
      <select id="doc-share-room" value=${room} onChange=${(e) => setRoom(e.target.value)}>
        <option value="">${t("library.choose_room")}</option>
        ${rooms.map((r) => html`<option value=${r.id}>${roomTitle(r)}</option>`)}
      </select></div>
    <div class="field"><label for="doc-share-comment">${t("library.comment")}</label>
      <input id="doc-share-comment" maxlength="500" value=${comment} onInput=${(e) => setComment(e.target.value)} /></div>
    <button type="submit" disabled=${!room}>${t("library.share")}</button>
    ${note && html`<p role="status">${note}</p>`}
  </form>`;
}

function NewVersion({ doc, onDone }) {
  const [file, setFile] = useState(null);
  const [note, setNote] = useState("");
  const [progress, setProgress] = useState(null);
  const [error, setError] = useState("");
  async function send(event) {
    event.preventDefault();
    if (!file) return setError(t("library.need_file"));
    try {
      const wire = await upload(file, { onProgress: (sent, total) => setProgress({ sent, total }) });
      await addVersion(doc.id, wire.id, note);
      onDone();
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setProgress(null);
    }
  }
  return html`<form class="doc-new-version" onSubmit=${send} aria-label=${t("library.new_version")}>
    <div class="field"><label for="doc-version-file">${t("library.file")}</label>
      <input id="doc-version-file" type="file" onChange=${(e) => setFile(e.target.files[0] || null)} /></div>
    <div class="field"><label for="doc-version-note">${t("library.version_note")}</label>
      <input id="doc-version-note" maxlength="500" value=${note} onInput=${(e) => setNote(e.target.value)} /></div>
    ${progress && html`<progress max=${progress.total} value=${progress.sent} aria-label=${t("library.uploading")}></progress>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <div class="actions"><button type="submit">${t("library.upload_version")}</button>
      <button type="button" class="link" onClick=${onDone}>${t("library.cancel")}</button></div>
  </form>`;
}

function Curate({ doc }) {
  const [mode, setMode] = useState(null); // "edit", "version", "reject", "withdraw"
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const mine = doc.proposed_by.id === state.user?.id && doc.state === "proposed";
  if (!(mayCurate() || mine) || doc.state === "withdrawn" || doc.state === "rejected") return null;
  async function act(action) {
    try {
      await reviewDocument(doc.id, action, reason);
      setMode(null);
      setReason("");
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  if (mode === "edit") return html`<${DocumentForm} doc=${doc} withFile=${false} onDone=${() => setMode(null)} />`;
  if (mode === "version") return html`<${NewVersion} doc=${doc} onDone=${() => setMode(null)} />`;
  if (mode === "reject" || mode === "withdraw") {
    return html`<form class="doc-review" onSubmit=${(e) => { e.preventDefault(); act(mode); }}>
      <div class="field"><label for="doc-reason">${t("library.reason")}</label>
        <textarea id="doc-reason" rows="2" maxlength="1000" required=${mode === "reject"} value=${reason}
          onInput=${(e) => setReason(e.target.value)}></textarea></div>
      ${error && html`<p role="alert" class="error">${error}</p>`}
      <div class="actions"><button type="submit">${t(`library.action.${mode}`)}</button>
        <button type="button" class="link" onClick=${() => setMode(null)}>${t("library.cancel")}</button></div>
    </form>`;
  }
  return html`<div class="actions doc-actions" role="group" aria-label=${t("library.curate")}>
    ${mayCurate() && doc.state === "proposed" && html`<button type="button" onClick=${() => act("publish")}>${t("library.action.publish")}</button>
      <button type="button" onClick=${() => setMode("reject")}>${t("library.action.reject")}</button>`}
    <button type="button" onClick=${() => setMode("version")}>${t("library.new_version")}</button>
    <button type="button" onClick=${() => setMode("edit")}>${t("library.edit")}</button>
    ${mayCurate() && html`<button type="button" class="link" onClick=${() => setMode("withdraw")}>${t("library.action.withdraw")}</button>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

function DocumentPage({ doc: id }) {
  const [error, setError] = useState("");
  useEffect(() => {
    loadDocument(id).then(() => setError("")).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [id]);
  const doc = docOf(id);
  if (isMissing(id)) return html`<section class="document"><h2>${t("library.title")}</h2><p>${t("library.no_such")}</p>
    <a href="#/library">${t("library.back")}</a></section>`;
  if (!doc?.versions) return html`<section class="document">${error ? html`<p role="alert" class="error">${error}</p>` : html`<p class="muted">${t("library.loading")}</p>`}</section>`;
  const other = otherTitle(doc);
  return html`<section class="document" aria-labelledby="doc-title">
    <p><a href="#/library">${t("library.back")}</a></p>
    <h2 id="doc-title">${docTitle(doc)}${doc.state !== "published" && html` <span class="tag">${t(`library.state.${doc.state}`)}</span>`}</h2>
    ${other && html`<p class="other-title" lang=${state.lang === "zh" ? "en" : "zh-Hans"}>${other}</p>`}
    ${doc.reason && html`<p class="muted">${t("library.reason_was", { reason: doc.reason })}</p>`}
    <p><${DocFacts} doc=${doc} /></p>
    ${doc.description && html`<p class="doc-description">${doc.description}</p>`}
    <p class="muted">${[...doc.sectors, ...doc.cities].map((room) => roomTitle(room)).join(" · ")}</p>
    <p class="muted">${t("library.proposed_by", { name: doc.proposed_by.name })} · ${t("library.downloads", { count: doc.downloads })}</p>
    ${doc.versions.length > 0 && html`<p><a class="download" href=${downloadLink(doc.id)} download=${doc.versions[0].file.name}>${t("library.download_current")}</a></p>`}
    <${Preview} doc=${doc} />
    <${Curate} doc=${doc} />
    <${Versions} doc=${doc} />
    <${Discussed} doc=${doc} />
    ${doc.state === "published" && html`<${Share} doc=${doc} />`}
  </section>`;
}

registerView({ name: "document", pattern: "/library/:doc", component: DocumentPage });
