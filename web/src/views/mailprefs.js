// Account section "Email notifications" (order 50): which emails the member takes, the digest
// (off, daily, weekly) and the rooms it covers, and the language of their mail. The form keeps
// its own copy of the preferences until saved.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { state } from "../state.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { DIGESTS, MAIL_KINDS, loadMailPreferences, saveMailPreferences } from "../subjects/mail.js";
import { registerAccountSection } from "./account.js";

function MailPreferences() {
  const [form, setForm] = useState(null);
  const [message, setMessage] = useState("");
  useEffect(() => {
    loadMailPreferences().then(setForm).catch((err) => setMessage(t("error.generic", { message: errorMessage(err) })));
  }, []);
  const heading = html`<h3 id="account-mail-title">${t("mail.title")}</h3>`;
  if (!form) return html`${heading}${message && html`<p role="status">${message}</p>`}`;
  const rooms = state.rooms.filter((r) => r.kind !== "direct");
  const toggleRoom = (id) => setForm({ ...form, digest_rooms: form.digest_rooms.includes(id)
    ? form.digest_rooms.filter((r) => r !== id) : [...form.digest_rooms, id] });
  async function submit(event) {
    event.preventDefault();
    try {
      setForm(await saveMailPreferences(form));
      setMessage(t("mail.saved"));
    } catch (err) {
      setMessage(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`${heading}
    <p id="mail-intro">${t("mail.intro")}</p>
    <form class="mail-prefs" onSubmit=${submit} aria-describedby="mail-intro">
      <fieldset><legend>${t("mail.kinds")}</legend>
        ${MAIL_KINDS.map((kind) => html`<label class="check"><input type="checkbox" name=${kind} checked=${form[kind]}
          onChange=${(e) => setForm({ ...form, [kind]: e.target.checked })} /> ${t(`mail.kind.${kind}`)}</label>`)}
      </fieldset>
      <fieldset><legend>${t("mail.digest")}</legend>
        ${DIGESTS.map((digest) => html`<label class="check"><input type="radio" name="digest" value=${digest}
          checked=${form.digest === digest} onChange=${() => setForm({ ...form, digest })} /> ${t(`mail.digest.${digest}`)}</label>`)}
      </fieldset>
      ${form.digest !== "off" && html`<fieldset class="mail-rooms"><legend>${t("mail.rooms")}</legend>
        ${rooms.map((room) => html`<label class="check"><input type="checkbox" name="digest_rooms" value=${room.id}
          checked=${form.digest_rooms.includes(room.id)} onChange=${() => toggleRoom(room.id)} /> ${roomTitle(room)}</label>`)}
      </fieldset>`}
      <div class="field"><label for="mail-language">${t("mail.language")}</label>
        <select id="mail-language" name="language" value=${form.language || ""}
          onChange=${(e) => setForm({ ...form, language: e.target.value || null })}>
          <option value="">${t("mail.language.both")}</option>
          <option value="en" lang="en">English</option>
          <option value="zh" lang="zh-CN">中文</option>
        </select></div>
      <button type="submit">${t("mail.save")}</button>
      ${message && html`<p role="status">${message}</p>`}
    </form>`;
}

registerAccountSection({ id: "mail", order: 50, component: MailPreferences });
