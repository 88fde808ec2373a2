// One eco-city project's page (docs/protocol.md, "Projects"): its names, city, sectors, status,
// partners (organisations and members), key figures, documents (library documents and files,
// with download links), the follow button, a link to its discussion thread, and the timeline
// of dated updates, newest first. Its members and moderators edit the page, add documents and
// post updates (Markdown and attachments, uploaded as they are picked: views/attachments.js).
import { useEffect, useRef, useState } from "preact/hooks";
import { html, safeMessageHtml } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import {
  addDocument, documentTitle, loadProject, loadTimeline, postUpdate, projectName, projectOf, removeDocument,
  roomName, setFollowing, timelineOf,
} from "../subjects/projects.js";
import { sizeText } from "../subjects/uploads.js";
import { AttachButton, AttachmentList, UploadChips, useUploads } from "./attachments.js";
import { ProjectForm } from "./projectform.js";
import { Figures, StatusBadge } from "./projects.js";

const today = () => {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
};

function formatDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Intl.DateTimeFormat(state.lang === "zh" ? "zh-CN" : "en-GB", { dateStyle: "long", timeZone: "UTC" })
    .format(new Date(Date.UTC(y, m - 1, d)));
}

function FollowButton({ project }) {
  const [error, setError] = useState("");
  const name = projectName(project);
  async function toggle() {
    try {
      await setFollowing(project.id, !project.following);
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`<span class="follow">
    <button type="button" class=${project.following ? "link" : undefined} aria-pressed=${project.following ? "true" : "false"}
      aria-label=${t(project.following ? "project.unfollow_named" : "project.follow_named", { name })} onClick=${toggle}>
      ${t(project.following ? "project.unfollow" : "project.follow")}</button>
    <span class="muted"> ${t("project.followers", { count: project.followers })}</span>
    ${error && html`<span role="alert" class="error">${error}</span>`}
  </span>`;
}

function Documents({ project }) {
  const uploads = useUploads();
  const [docId, setDocId] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const done = uploads.items.filter((i) => i.status === "done");

  // Each finished upload goes on the page, once.
  useEffect(() => {
    for (const item of done) {
      uploads.remove(item.key);
      addDocument(project.id, { file: item.wire.id }).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
    }
  }, [done.length]);

  async function link(event) {
    event.preventDefault();
    const id = docId.trim().replace(/^.*#\/library\//, "");
    if (!id) return;
    setBusy(true);
    try {
      await addDocument(project.id, { doc: id });
      setDocId("");
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }

  return html`<section class="project-documents" aria-labelledby="project-docs-title">
    <h3 id="project-docs-title">${t("project.documents")}</h3>
    ${project.documents.length
      ? html`<ul class="documents">${project.documents.map((d) => html`<li key=${d.id} data-id=${d.id}>
          ${d.kind === "file"
            ? html`<a href=${`/api/v1/files/${encodeURIComponent(d.id)}`} download=${d.file?.name || ""}>📄 ${documentTitle(d)}</a>
                <span class="muted"> ${sizeText(d.file?.size || 0, state.lang)}</span>`
            : html`<a href=${`#/library/${d.id}`}>📚 ${documentTitle(d)}</a> <span class="muted">${t("project.library_doc")}</span>`}
          ${project.can_edit && html` <button type="button" class="link" aria-label=${t("project.remove_doc", { name: documentTitle(d) })}
            onClick=${() => removeDocument(project.id, d.id).catch((err) => setError(t("error.generic", { message: errorMessage(err) })))}>
            ${t("webinar.remove")}</button>`}
        </li>`)}</ul>`
      : html`<p class="muted">${t("project.no_documents")}</p>`}
    ${project.can_edit && html`<div class="add-documents">
      <${AttachButton} uploads=${uploads} id="project-doc-file" />
      <${UploadChips} uploads=${uploads} id="project-doc-chips" />
      <form class="link-doc" onSubmit=${link}>
        <label for="project-doc-id">${t("project.link_doc")}</label>
        <input id="project-doc-id" value=${docId} placeholder="d-…" onInput=${(e) => setDocId(e.target.value)} />
        <button type="submit" disabled=${busy}>${t("project.link_doc_submit")}</button>
      </form>
    </div>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </section>`;
}

function UpdateForm({ project, onDone }) {
  const uploads = useUploads();
  const [day, setDay] = useState(today);
  const dayRef = useRef(null);
  useEffect(() => { dayRef.current?.focus(); }, []);
  const [body, setBody] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    setBusy(true);
    try {
      await uploads.settled();
      if (uploads.failed) throw new Error(t("project.upload_failed"));
      await postUpdate(project.id, { happenedOn: day, body, attachments: uploads.ids() });
      setBody("");
      uploads.clear();
      setError("");
      onDone();
    } catch (err) {
      const details = err.details || {};
      setError(Object.keys(details).length
        ? t("project.fix", { problems: Object.entries(details).map(([k, v]) => `${k}: ${v}`).join("; ") })
        : t("error.generic", { message: errorMessage(err) }));
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="update-form" onSubmit=${submit} aria-labelledby="update-form-title"
      onDragOver=${(e) => e.preventDefault()} onDrop=${(e) => { e.preventDefault(); uploads.add(e.dataTransfer?.files || []); }}>
    <h4 id="update-form-title">${t("project.post_update")}</h4>
    <div class="field"><label for="update-day">${t("project.happened_on")}</label>
      <input id="update-day" ref=${dayRef} type="date" value=${day} max=${today()} onInput=${(e) => setDay(e.target.value)} required /></div>
    <div class="field"><label for="update-body">${t("project.update_body")}</label>
      <textarea id="update-body" rows="4" maxlength="20000" value=${body} onInput=${(e) => setBody(e.target.value)}
        onPaste=${(e) => { if (e.clipboardData?.files?.length) { e.preventDefault(); uploads.add(e.clipboardData.files); } }}></textarea></div>
    <${AttachButton} uploads=${uploads} id="update-files" />
    <${UploadChips} uploads=${uploads} id="update-chips" />
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <div class="buttons"><button type="submit" disabled=${busy || uploads.busy || !body.trim()}>${t("project.post")}</button>
      <button type="button" class="link" onClick=${onDone}>${t("room.cancel")}</button></div>
  </form>`;
}

function Timeline({ project }) {
  const timeline = timelineOf(project.id);
  const [busy, setBusy] = useState(false);
  const [posting, setPosting] = useState(false);
  const opener = useRef(null);
  if (!timeline) return html`<p class="muted">${t("project.loading")}</p>`;
  async function more() {
    setBusy(true);
    try { await loadTimeline(project.id, true); } finally { setBusy(false); }
  }
  return html`<section class="project-timeline" aria-labelledby="timeline-title">
    <h3 id="timeline-title">${t("project.timeline")}</h3>
    ${project.can_edit && (posting
      ? html`<${UpdateForm} project=${project} onDone=${() => { setPosting(false); setTimeout(() => opener.current?.focus()); }} />`
      : html`<button type="button" ref=${opener} class="post-update" onClick=${() => setPosting(true)}>${t("project.post_update")}</button>`)}
    ${timeline.items.length
      ? html`<ol class="timeline">${timeline.items.map((u) => html`<li key=${u.id} class="update" data-id=${u.id}>
          <article aria-labelledby=${`update-${u.id}`}>
            <p class="update-meta" id=${`update-${u.id}`}><time datetime=${u.happened_on}>${formatDay(u.happened_on)}</time>
              <span class="muted"> · ${t("project.posted_by", { name: u.author.name, time: formatTime(u.created_at) })}</span></p>
            <div class="body" dangerouslySetInnerHTML=${safeMessageHtml(u.html)}></div>
            <${AttachmentList} files=${u.attachments} />
          </article></li>`)}</ol>`
      : html`<p class="muted timeline-empty">${t("project.no_updates")}</p>`}
    ${timeline.next && html`<button type="button" class="link" disabled=${busy} onClick=${more}>${t("project.older")}</button>`}
  </section>`;
}

function Project({ id }) {
  const project = projectOf(id);
  const [error, setError] = useState("");
  const [editing, setEditing] = useState(false);
  const heading = useRef(null);
  useEffect(() => {
    setError("");
    Promise.all([loadProject(id), loadTimeline(id)])
      .then(() => heading.current?.focus())
      .catch((err) => setError(err.status === 404 ? t("project.not_found") : t("error.generic", { message: errorMessage(err) })));
  }, [id]);
  if (!project) {
    return html`<section class="project" aria-label=${t("project.title")}>
      ${error ? html`<p role="alert" class="error">${error}</p>` : html`<p class="muted">${t("project.loading")}</p>`}
      <p><a href="#/projects">${t("project.back")}</a></p></section>`;
  }
  const name = projectName(project);
  const other = state.lang === "zh" ? project.name.en : project.name.zh;
  return html`<section class="project" aria-labelledby="project-name">
    <p class="crumbs"><a href="#/projects">${t("project.back")}</a></p>
    <h2 id="project-name" tabindex="-1" ref=${heading}>${name} <${StatusBadge} project=${project} /></h2>
    ${other && other !== name && html`<p class="other-name muted" lang=${state.lang === "zh" ? "en" : "zh-CN"}>${other}</p>`}
    <p class="project-where">${t("project.in_city", { city: roomName(project.city) })}${project.sectors.length
      ? ` · ${project.sectors.map(roomName).join(t("form.list_sep"))}` : ""}</p>
    <div class="project-actions">
      <${FollowButton} project=${project} />
      <a class="thread-link" href=${`#/room/${project.thread}`}>${t("project.discussion")}</a>
      ${project.can_edit && !editing && html`<button type="button" class="link" onClick=${() => setEditing(true)}>${t("project.edit")}</button>`}
    </div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${editing && html`<${ProjectForm} project=${project} onDone=${() => setEditing(false)} />`}
    ${project.description && html`<p class="project-description">${project.description}</p>`}
    ${project.figures.length > 0 && html`<section aria-labelledby="figures-title"><h3 id="figures-title">${t("project.figures")}</h3>
      <${Figures} figures=${project.figures} /></section>`}
    <section class="partners" aria-labelledby="partners-title"><h3 id="partners-title">${t("project.partners")}</h3>
      ${project.organisations.length > 0 && html`<p>${project.organisations.join(t("form.list_sep"))}</p>`}
      ${project.members.length > 0 && html`<p>${t("project.members_list", { names: project.members.map((m) => m.name).join(t("form.list_sep")) })}</p>`}
      ${!project.organisations.length && !project.members.length && html`<p class="muted">${t("project.no_partners")}</p>`}
    </section>
    <${Timeline} project=${project} />
    <${Documents} project=${project} />
  </section>`;
}

registerView({ name: "project", pattern: "/projects/:id", component: Project });
