// The host console of a webinar's page (hosts and moderators; panelists see only what they may
// do: the board's answering buttons): the queue of questions waiting for approval, the
// dismissed ones (to reopen), and the polls: prepare one (question and 2 to 10 options, each in
// English and Chinese; one or several choices), open, close, publish its results, and follow
// its counts live. The chat's mode stays with the page's host controls (views/webinar.js).
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { boardFor, countsOf, createPoll, moderates, movePoll, pendingOf, pollsOf } from "../subjects/board.js";
import { errorMessage, t } from "../subjects/language.js";
import { registerWebinarPanel } from "./webinar.js";
import { inLang, PollResults, QuestionItem } from "./webinarboard.js";

const MAX_OPTIONS = 10;
const closed = (webinar) => webinar.state === "ended" || webinar.state === "cancelled";

function PollForm({ room, onDone }) {
  const [question, setQuestion] = useState({ en: "", zh: "" });
  const [options, setOptions] = useState([{ en: "", zh: "" }, { en: "", zh: "" }]);
  const [multiple, setMultiple] = useState(false);
  const [error, setError] = useState("");
  const setOption = (i, lang, value) => setOptions(options.map((o, j) => (j === i ? { ...o, [lang]: value } : o)));
  async function submit(event) {
    event.preventDefault();
    try {
      await createPoll(room, { question, options, multiple });
      onDone();
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`<form class="poll-form" onSubmit=${submit}>
    <div class="field"><label for="poll-q-en">${t("poll.field.question_en")}</label>
      <input id="poll-q-en" maxlength="300" value=${question.en} onInput=${(e) => setQuestion({ ...question, en: e.target.value })} /></div>
    <div class="field"><label for="poll-q-zh">${t("poll.field.question_zh")}</label>
      <input id="poll-q-zh" maxlength="300" value=${question.zh} onInput=${(e) => setQuestion({ ...question, zh: e.target.value })} /></div>
    <fieldset><legend>${t("poll.field.options")}</legend>
      ${options.map((option, i) => html`<div class="poll-option" key=${i}>
        <div class="field"><label for=${`poll-o${i}-en`}>${t("poll.field.option_en", { n: i + 1 })}</label>
          <input id=${`poll-o${i}-en`} maxlength="100" value=${option.en} onInput=${(e) => setOption(i, "en", e.target.value)} /></div>
        <div class="field"><label for=${`poll-o${i}-zh`}>${t("poll.field.option_zh", { n: i + 1 })}</label>
          <input id=${`poll-o${i}-zh`} maxlength="100" value=${option.zh} onInput=${(e) => setOption(i, "zh", e.target.value)} /></div>
        ${options.length > 2 && html`<button type="button" class="link" onClick=${() => setOptions(options.filter((_, j) => j !== i))}>
          ${t("poll.remove_option", { n: i + 1 })}</button>`}
      </div>`)}
      ${options.length < MAX_OPTIONS && html`<button type="button" class="link" onClick=${() => setOptions([...options, { en: "", zh: "" }])}>
        ${t("poll.add_option")}</button>`}
    </fieldset>
    <label class="check"><input type="checkbox" checked=${multiple} onChange=${(e) => setMultiple(e.target.checked)} /> ${t("poll.field.multiple")}</label>
    <div class="buttons"><button type="submit">${t("poll.create")}</button>
      <button type="button" class="link" onClick=${onDone}>${t("board.cancel")}</button></div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </form>`;
}

function PollControl({ board, room, poll, webinar }) {
  const [error, setError] = useState("");
  const move = (change) => movePoll(room, poll.id, change).then(() => setError(""))
    .catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  const counts = countsOf(board, poll.id);
  const title = inLang(poll.question);
  const button = (change, label) => html`<button type="button" aria-label=${`${t(label)}: ${title}`} onClick=${() => move(change)}>${t(label)}</button>`;
  return html`<li class="poll-control" data-id=${poll.id} data-state=${poll.state}>
    <p><strong>${title}</strong> <span class="tag">${t(`poll.state.${poll.state}`)}</span>
      ${poll.results_public && html` <span class="tag resolved">${t("poll.public")}</span>`}</p>
    <div class="buttons">
      ${poll.state === "draft" && !closed(webinar) && button("open", "poll.open")}
      ${poll.state === "open" && button("close", "poll.close")}
      ${poll.state !== "draft" && !poll.results_public && button("publish", "poll.publish")}
    </div>
    ${counts && poll.state !== "draft" && html`<${PollResults} poll=${poll} counts=${counts} />`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </li>`;
}

function Console({ webinar, room }) {
  const [creating, setCreating] = useState(false);
  const board = boardFor(room);
  if (!board?.loaded || !moderates(board)) return null;
  const pending = pendingOf(board);
  const dismissed = [...board.questions.values()].filter((q) => q.state === "dismissed");
  const polls = pollsOf(board);
  return html`<section class="console" aria-labelledby="console-title">
    <h3 id="console-title">${t("console.title")}</h3>
    <h4>${t("console.pending", { count: pending.length })}</h4>
    ${pending.length ? html`<ul class="questions pending-queue">${pending.map((q) =>
      html`<${QuestionItem} key=${q.id} board=${board} room=${room} question=${q} webinar=${webinar} />`)}</ul>`
      : html`<p class="muted">${t("console.none_pending")}</p>`}
    ${dismissed.length > 0 && html`<details class="dismissed"><summary>${t("console.dismissed", { count: dismissed.length })}</summary>
      <ul class="questions">${dismissed.map((q) => html`<${QuestionItem} key=${q.id} board=${board} room=${room} question=${q} webinar=${webinar} />`)}</ul>
    </details>`}
    <h4>${t("poll.title")}</h4>
    ${polls.length > 0 && html`<ul class="poll-controls">${polls.map((p) =>
      html`<${PollControl} key=${p.id} board=${board} room=${room} poll=${p} webinar=${webinar} />`)}</ul>`}
    ${!closed(webinar) && (creating ? html`<${PollForm} room=${room} onDone=${() => setCreating(false)} />`
      : html`<button type="button" onClick=${() => setCreating(true)}>${t("poll.new")}</button>`)}
  </section>`;
}

registerWebinarPanel({ name: "console", component: Console });
