// Attachments: the files a message, topic, news post or webinar description holds, and the
// picking of them in a form (the composer, the topic form, the webinar form).
//
// AttachmentList shows attached files (wire dicts, docs/protocol.md "Files"): images and PDFs
// by the server's preview (lazy, sized from the wire so nothing shifts when it arrives), the
// rest by an icon of their kind; each with its name, type, size and a download link.
// useUploads() holds the files being attached in one form: each uploads at once
// (subjects/uploads.js) with its progress; a chip per file with Cancel (while uploading) or
// Remove. AttachButton opens the file picker; drops and pastes go through `add`.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { sizeText, upload } from "../subjects/uploads.js";

export const MAX_ATTACHMENTS = 10;
const ICONS = { image: "🖼️", pdf: "📄", office: "📝", text: "📃", csv: "📊", zip: "🗜️" };
const PREVIEW_BOX = 240; // CSS px: a preview is drawn within this square, its ratio kept

const fileUrl = (id) => `/api/v1/files/${encodeURIComponent(id)}`;

function previewSize(preview) {
  const scale = Math.min(1, PREVIEW_BOX / preview.w, PREVIEW_BOX / preview.h);
  return { width: Math.max(1, Math.round(preview.w * scale)), height: Math.max(1, Math.round(preview.h * scale)) };
}

export function AttachmentList({ files }) {
  if (!files?.length) return null;
  return html`<ul class="attachments" aria-label=${t("attach.list", { count: files.length })}>
    ${files.map((file) => {
      const size = sizeText(file.size, state.lang);
      const label = t("attach.download", { name: file.name, size });
      return html`<li key=${file.id} class=${`attachment kind-${file.kind}`}>
        ${file.preview && (file.kind === "image" || file.kind === "pdf")
          ? html`<a class="preview" href=${fileUrl(file.id)} download=${file.name} aria-label=${label}>
              <img src=${`${fileUrl(file.id)}/preview`} loading="lazy" decoding="async" alt=""
                ...${previewSize(file.preview)} /></a>`
          : html`<span class="file-icon" aria-hidden="true">${ICONS[file.kind] || "📎"}</span>`}
        <span class="file-facts">
          <a class="file-name" href=${fileUrl(file.id)} download=${file.name}>${file.name}</a>
          <span class="muted">${t(`attach.kind.${file.kind}`) || file.type} · ${size}</span>
        </span>
      </li>`;
    })}
  </ul>`;
}

let nextKey = 0;

// Why an upload failed, in the member's language.
function uploadProblem(err) {
  if (err?.code === "too_large") return t("attach.too_large");
  if (err?.code === "quota_exceeded") return t("attach.quota");
  if (err?.code === "unsupported_type") return t("attach.type");
  return errorMessage(err);
}

// The files of one form: [{key, name, size, sent, status: "uploading"|"done"|"failed", wire,
// error}], and what to do with them. `ids()` are the finished ones' ids in the order picked;
// `settled()` resolves once none is uploading (to the list then).
export function useUploads(attached = []) {
  // Files attached before (a webinar being edited) start as finished ones: kept unless removed.
  const [items, setItemsState] = useState(() => attached.map((wire) => ({ key: `up-${++nextKey}`, name: wire.name,
    size: wire.size, sent: wire.size, status: "done", wire, error: "" })));
  const live = useRef(new Map()); // key -> {controller, promise}
  // The list as of now (a finished upload's settle is seen before the next render).
  const current = useRef(items);
  const setItems = (change) => {
    current.current = change(current.current);
    setItemsState(current.current);
  };
  useEffect(() => () => { for (const { controller } of live.current.values()) controller.abort(); }, []);

  const update = (key, change) => setItems((list) => list.map((item) => (item.key === key ? { ...item, ...change } : item)));

  function add(fileList) {
    const files = [...fileList].filter((f) => f && typeof f.size === "number");
    const room = MAX_ATTACHMENTS - current.current.length;
    const taken = files.slice(0, Math.max(0, room));
    const fresh = taken.map((file) => ({ key: `up-${++nextKey}`, name: file.name || "pasted", size: file.size,
      sent: 0, status: "uploading", wire: null, error: "", file }));
    const refused = files.length - taken.length;
    setItems((list) => [...list, ...fresh]);
    for (const item of fresh) {
      const controller = new AbortController();
      const promise = upload(item.file, { signal: controller.signal, onProgress: (sent) => update(item.key, { sent }) })
        .then((wire) => update(item.key, { status: "done", wire, sent: item.size }))
        .catch((err) => {
          if (err?.name !== "AbortError") update(item.key, { status: "failed", error: uploadProblem(err) });
        })
        .finally(() => live.current.delete(item.key));
      live.current.set(item.key, { controller, promise });
    }
    return refused;
  }

  function remove(key) {
    live.current.get(key)?.controller.abort(); // deletes the upload on the server
    live.current.delete(key);
    setItems((list) => list.filter((item) => item.key !== key));
  }

  function clear() {
    for (const { controller } of live.current.values()) controller.abort();
    live.current.clear();
    setItems(() => []);
  }

  async function settled() {
    await Promise.all([...live.current.values()].map((l) => l.promise));
    return current.current;
  }

  const files = () => current.current.filter((i) => i.status === "done").map((i) => i.wire);
  const ids = () => files().map((wire) => wire.id);
  const busy = items.some((i) => i.status === "uploading");
  const failed = items.some((i) => i.status === "failed");
  return { items, add, remove, clear, settled, files, ids, busy, failed };
}

// The chips of a form's files: name, size, progress while uploading, Cancel / Remove.
export function UploadChips({ uploads, id }) {
  if (!uploads.items.length) return null;
  return html`<ul class="upload-chips" id=${id} aria-label=${t("attach.chosen")}>
    ${uploads.items.map((item) => html`<li key=${item.key} class=${`chip ${item.status}`}>
      <span class="chip-name">${item.name}</span>
      <span class="muted">${sizeText(item.size, state.lang)}</span>
      ${item.status === "uploading" && html`<progress max=${item.size || 1} value=${item.sent}
        aria-label=${t("attach.progress", { name: item.name })}></progress>`}
      ${item.status === "failed" && html`<span class="error" role="alert">${t("attach.failed", { message: item.error })}</span>`}
      <button type="button" class="link" onClick=${() => uploads.remove(item.key)}
        aria-label=${t(item.status === "uploading" ? "attach.cancel_named" : "attach.remove_named", { name: item.name })}>
        ${t(item.status === "uploading" ? "attach.cancel" : "attach.remove")}</button>
    </li>`)}
  </ul>`;
}

// "Attach files": a button opening the picker (several at once).
export function AttachButton({ uploads, id }) {
  const input = useRef(null);
  const full = uploads.items.length >= MAX_ATTACHMENTS;
  return html`<span class="attach">
    <input type="file" multiple id=${id} ref=${input} class="visually-hidden" tabindex="-1" aria-hidden="true"
      onChange=${(e) => { uploads.add(e.target.files); e.target.value = ""; }} />
    <button type="button" class="attach-button" disabled=${full} title=${full ? t("attach.full", { max: MAX_ATTACHMENTS }) : undefined}
      onClick=${() => input.current?.click()}>📎 ${t("attach.button")}</button>
  </span>`;
}

// Files of a clipboard paste (an image copied, files copied in a file manager).
export function pastedFiles(event) {
  const files = [...(event.clipboardData?.files || [])];
  return files.length ? files : [];
}
