// A list shown page by page, kept in a subject's part of the state (`list`: the ids shown and
// the next page's cursor; `byId`: the items): the library's documents, the eco-city projects,
// search results. The latest request wins: an earlier one (for other filters) answering late,
// or failing late, is dropped.
import { api } from "../api.js";
import { changed, state } from "../state.js";

// `slot`: the part of the state; `path`: the listing route; `field`: the answer's list;
// `remember(item)`: keeps one item in `byId` under `keyOf(item)`; `cursor`: the query parameter
// that carries the answer's `next`.
export function pagedList(slot, path, field, remember, { keyOf = (item) => item.id, cursor = "after" } = {}) {
  let asked = 0;
  // A page for `query` (URLSearchParams); `more`: the page after the one shown.
  async function load(query, more = false) {
    const mine = ++asked;
    const shown = state[slot].list;
    if (more && shown?.next) query.set(cursor, shown.next);
    let answer;
    try {
      answer = await api("GET", `${path}?${query}`);
    } catch (err) {
      if (mine !== asked) return;
      throw err;
    }
    if (mine !== asked) return;
    const items = answer[field];
    for (const item of items) remember(item);
    const ids = items.map(keyOf);
    state[slot].list = { ids: more && shown ? [...new Set([...shown.ids, ...ids])] : ids, next: answer.next };
    changed();
  }
  function listed() {
    const list = state[slot].list;
    return list ? { items: list.ids.map((id) => state[slot].byId.get(id)).filter(Boolean), next: list.next } : null;
  }
  return { load, listed };
}

// A bilingual text ({en, zh}) in the reader's language, else the other one.
export function inReadersLanguage(texts) {
  const other = state.lang === "zh" ? "en" : "zh";
  return texts?.[state.lang] || texts?.[other] || "";
}
