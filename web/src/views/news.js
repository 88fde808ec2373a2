// The platform-wide news feed; moderators and admins post news to sector and city rooms.
import { useEffect, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { registerView } from "../views.js";
import { formatTime } from "../format.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { listNews, postNews } from "../subjects/topics.js";
import { AttachButton, AttachmentList, UploadChips, useUploads } from "./attachments.js";
import { RoleBadge } from "./badge.js";

const NEWS_FIELDS = ["title", "summary", "body", "rooms"];
const NEWS_LABELS = { title: "news.headline", summary: "news.summary", body: "news.body", rooms: "news.rooms" };

function PostNews({ onPosted }) {
  const [error, setError] = useState("");
  const [invalid, setInvalid] = useState({}); // field -> the server's problem (422 details)
  const uploads = useUploads();
  async function submit(event) {
    event.preventDefault();
    const target = event.target;
    const form = new FormData(target);
    try {
      const files = await uploads.settled(); // the files still uploading first
      if (files.some((item) => item.status === "failed")) return;
      await postNews({
        title: form.get("title"), summary: form.get("summary") || "", body: form.get("body"),
        rooms: form.getAll("rooms"), ...(files.length ? { attachments: uploads.ids() } : {}),
      });
      target.reset();
      uploads.clear();
      setError("");
      setInvalid({});
      onPosted();
    } catch (err) {
      const details = err.details && typeof err.details === "object" ? err.details : {};
      const named = NEWS_FIELDS.filter((key) => details[key]);
      setInvalid(details);
      setError(named.length
        ? named.map((key) => t("form.field_error", { field: t(NEWS_LABELS[key]), problem: details[key] })).join(" ")
        : t("error.generic", { message: errorMessage(err) }));
      if (named.length) target.querySelector(`[name="${named[0]}"]`)?.focus();
    }
  }
  const marked = (key) => invalid[key] ? { "aria-invalid": "true", "aria-describedby": "news-error" } : {};
  const listed = state.rooms.filter((r) => r.kind === "sector" || r.kind === "city");
  return html`<details class="news-post"><summary>${t("news.post")}</summary><form class="news-form" onSubmit=${submit}>
    <label>${t("news.headline")}<input name="title" required maxlength="200" ...${marked("title")} /></label>
    <label>${t("news.summary")}<input name="summary" maxlength="500" ...${marked("summary")} /></label>
    <label>${t("news.body")}<textarea name="body" rows="4" required ...${marked("body")}></textarea></label>
    <div class="attach-bar">
      <${AttachButton} uploads=${uploads} id="news-files" />
      <${UploadChips} uploads=${uploads} id="news-chips" />
    </div>
    <fieldset ...${marked("rooms")}><legend>${t("news.rooms")}</legend>
      ${listed.map((r) => html`<label class="check"><input type="checkbox" name="rooms" value=${r.id} /> ${roomTitle(r)}</label>`)}
    </fieldset>
    ${error && html`<p role="alert" class="error" id="news-error">${error}</p>`}
    <button type="submit">${t("news.publish")}</button>
  </form></details>`;
}

function News() {
  const [news, setNews] = useState(null);
  const load = () => listNews().then(setNews);
  useEffect(() => { load(); }, []);
  const canPost = state.user.role === "moderator" || state.user.role === "admin";
  return html`<section class="news" aria-labelledby="news-title">
    <h2 id="news-title">${t("news.title")}</h2>
    ${canPost && html`<${PostNews} onPosted=${load} />`}
    ${news && !news.length && html`<p>${t("news.empty")}</p>`}
    <ul class="feed">
      ${(news || []).map((item) => html`<li><article>
        <h3><a href=${`#/room/${item.id}`}>${item.title}</a></h3>
        <p class="muted">${t("news.by", { name: item.author?.name || "", time: formatTime(item.created_at) })}
          <${RoleBadge} role=${item.author?.role} /></p>
        ${item.summary && html`<p>${item.summary}</p>`}
        ${item.html && html`<div dangerouslySetInnerHTML=${safeHtml(item.html)} />`}
        <${AttachmentList} files=${item.attachments} />
      </article></li>`)}
    </ul>
  </section>`;
}

registerView({ name: "news", pattern: "/news", component: News });
