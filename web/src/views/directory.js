// The member directory: filter by sector, city, affiliation, language; start a direct
// conversation with anyone listed (a refusal is shown; so is finding them gone from the
// conversation they left), block or unblock them.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { state } from "../state.js";
import { setBlocked } from "../subjects/blocks.js";
import { startDirect } from "../subjects/conversations.js";
import { searchMembers } from "../subjects/directory.js";
import { errorMessage, t } from "../subjects/language.js";
import { roomTitle } from "../subjects/rooms.js";
import { RoleBadge } from "./badge.js";
import { Avatar, PersonName } from "./people.js";

export const AFFILIATIONS = ["expert", "city", "government", "academic", "company", "ngo", "other"];

function Directory() {
  const [filters, setFilters] = useState({ sector: "", city: "", affiliation: "", language: "", q: "" });
  const [members, setMembers] = useState(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let current = true; // answers to earlier keystrokes that arrive late are dropped
    searchMembers(Object.entries(filters).filter(([, v]) => v.trim()))
      .then((found) => current && setMembers(found))
      .catch(() => current && setMembers([]));
    return () => { current = false; };
  }, [filters]);
  const set = (key) => (event) => setFilters({ ...filters, [key]: event.target.value });
  async function act(call) {
    try {
      await call();
      setError("");
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const message = (member) => act(async () => {
    const room = await startDirect(member.id, member.display_name);
    location.hash = `#/room/${room}`;
  });
  const toggleBlock = (member) => act(() => setBlocked(member.id, !state.blocked.has(member.id)));
  const sectors = state.rooms.filter((r) => r.kind === "sector");
  return html`<section class="directory" aria-labelledby="dir-title">
    <h2 id="dir-title">${t("dir.title")}</h2>
    <form class="filters" onSubmit=${(e) => e.preventDefault()}>
      <label>${t("dir.search")}<input type="search" value=${filters.q} onInput=${set("q")} /></label>
      <div class="field"><label for="dir-sector">${t("dir.sector")}</label><select id="dir-sector" value=${filters.sector} onChange=${set("sector")}>
        <option value="">${t("dir.any")}</option>
        ${sectors.map((r) => html`<option value=${r.id}>${roomTitle(r)}</option>`)}
      </select></div>
      <label>${t("dir.city")}<input value=${filters.city} onInput=${set("city")} /></label>
      <div class="field"><label for="dir-affiliation">${t("dir.affiliation")}</label><select id="dir-affiliation" value=${filters.affiliation} onChange=${set("affiliation")}>
        <option value="">${t("dir.any")}</option>
        ${AFFILIATIONS.map((a) => html`<option value=${a}>${t(`aff.${a}`)}</option>`)}
      </select></div>
      <div class="field"><label for="dir-language">${t("dir.language")}</label><select id="dir-language" value=${filters.language} onChange=${set("language")}>
        <option value="">${t("dir.any")}</option>
        <option value="en">English</option>
        <option value="zh">中文</option>
      </select></div>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${members && !members.length && html`<p>${t("dir.empty")}</p>`}
    <ul class="members">
      ${(members || []).map((m) => html`<li class="member">
        <${Avatar} id=${m.id} name=${m.display_name} />
        <strong><${PersonName} id=${m.id} name=${m.display_name} /></strong>
        ${m.alt_name && html`<span class="alt-name" lang=${/\p{Script=Han}/u.test(m.alt_name) ? "zh-Hans" : undefined}>${m.alt_name}</span>`}
        <${RoleBadge} role=${m.role} />
        <span class="muted"> ${t(`aff.${m.affiliation || "other"}`)}${m.organisation ? ` · ${m.organisation}` : ""}${m.city ? ` · ${m.city}` : ""}</span>
        ${m.id !== state.user.id && html`<button type="button" onClick=${() => message(m)}>${t("dir.message", { name: m.display_name })}</button>
          <button type="button" class="link block" onClick=${() => toggleBlock(m)}>
            ${t(state.blocked.has(m.id) ? "direct.unblock" : "direct.block", { name: m.display_name })}</button>`}
      </li>`)}
    </ul>
  </section>`;
}

registerView({ name: "directory", pattern: "/directory", component: Directory });
