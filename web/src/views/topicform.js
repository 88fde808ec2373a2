// Starting a topic: from the side panel of a sector or city room, or from one message (the
// topic then quotes it and links back). A refused start shows why, in the form. Opened, the
// title takes focus.
import { useEffect, useRef, useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { createTopic } from "../subjects/topics.js";

export function TopicForm({ room, messageId = null, onDone = null }) {
  const [open, setOpen] = useState(Boolean(messageId));
  const [error, setError] = useState("");
  const title = useRef(null);
  useEffect(() => { if (open) title.current?.focus(); }, [open]); // opened: ready to type
  const close = () => { setOpen(false); setError(""); onDone?.(); };
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    try {
      const topic = await createTopic(room, { title: form.get("title"), body: form.get("body"), messageId });
      close();
      location.hash = `#/room/${topic.id}`;
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  if (!open) return html`<button type="button" onClick=${() => setOpen(true)}>${t("topic.new")}</button>`;
  const suffix = messageId ? `-${messageId}` : "";
  return html`<form class="topic-form" onSubmit=${submit} aria-label=${t("topic.new")}>
    <label for=${`topic-title${suffix}`}>${t("topic.title")}</label>
    <input id=${`topic-title${suffix}`} ref=${title} name="title" required maxlength="200" />
    <label for=${`topic-body${suffix}`}>${t("topic.body")}</label>
    <textarea id=${`topic-body${suffix}`} name="body" rows="3"></textarea>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <div class="buttons">
      <button type="submit">${t("topic.create")}</button>
      <button type="button" class="link" onClick=${close}>${t("room.cancel")}</button>
    </div>
  </form>`;
}
