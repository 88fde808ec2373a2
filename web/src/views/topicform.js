// Starting a topic: from the side panel of a sector or city room, or from one message (the
// topic then quotes it and links back). A refused start shows why, in the form. Opened, the
// title takes focus.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { createTopic } from "../subjects/topics.js";
import { AttachButton, UploadChips, useUploads } from "./attachments.js";

export function TopicForm({ room, messageId = null, onDone = null }) {
  const [open, setOpen] = useState(Boolean(messageId));
  const [error, setError] = useState("");
  const [invalid, setInvalid] = useState({}); // field -> the server's problem (422 details)
  const title = useRef(null);
  const formRef = useRef(null);
  const uploads = useUploads();
  useEffect(() => { // opened: in view (under a recent message it opens below the fold) and ready to type
    if (!open) return;
    formRef.current?.scrollIntoView({ block: "nearest" });
    title.current?.focus({ preventScroll: true });
  }, [open]);
  const close = () => { setOpen(false); setError(""); setInvalid({}); uploads.clear(); onDone?.(); };
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const files = await uploads.settled(); // the files still uploading first
      if (files.some((item) => item.status === "failed")) return;
      const topic = await createTopic(room, { title: form.get("title"), body: form.get("body"), messageId,
                                              attachments: uploads.ids() });
      uploads.clear();
      close();
      location.hash = `#/room/${topic.id}`;
    } catch (err) {
      const details = err.details && typeof err.details === "object" ? err.details : {};
      const named = ["title", "body"].filter((key) => details[key]);
      setInvalid(details);
      setError(named.length
        ? named.map((key) => t("form.field_error", { field: t(`topic.${key}`), problem: details[key] })).join(" ")
        : t("error.generic", { message: errorMessage(err) }));
      if (named.length) event.target.querySelector(`[name="${named[0]}"]`)?.focus();
    }
  }
  if (!open) return html`<button type="button" onClick=${() => setOpen(true)}>${t("topic.new")}</button>`;
  const suffix = messageId ? `-${messageId}` : "";
  const errorId = `topic-error${suffix}`;
  const marked = (key) => invalid[key] ? { "aria-invalid": "true", "aria-describedby": errorId } : {};
  return html`<form class="topic-form" ref=${formRef} onSubmit=${submit} aria-label=${t("topic.new")}>
    <label for=${`topic-title${suffix}`}>${t("topic.title")}</label>
    <input id=${`topic-title${suffix}`} ref=${title} name="title" required maxlength="200" ...${marked("title")} />
    <label for=${`topic-body${suffix}`}>${t("topic.body")}</label>
    <textarea id=${`topic-body${suffix}`} name="body" rows="3" ...${marked("body")}
      onPaste=${(e) => { if (e.clipboardData?.files?.length) { e.preventDefault(); uploads.add(e.clipboardData.files); } }}></textarea>
    <div class="attach-bar">
      <${AttachButton} uploads=${uploads} id=${`topic-files${suffix}`} />
      <${UploadChips} uploads=${uploads} id=${`topic-chips${suffix}`} />
    </div>
    ${error && html`<p role="alert" class="error" id=${errorId}>${error}</p>`}
    <div class="buttons">
      <button type="submit">${t("topic.create")}</button>
      <button type="button" class="link" onClick=${close}>${t("room.cancel")}</button>
    </div>
  </form>`;
}
