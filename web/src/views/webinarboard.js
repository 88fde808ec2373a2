// A webinar's Q&A board and polls as its page shows them (the panel slot of views/webinar.js):
// the questions (by votes or by time, live), asking (500 characters, optionally anonymous),
// editing and withdrawing one's own, voting for others'; the polls to answer and their results
// when public. Hosts and panelists get their moderation buttons on each question here; the
// rest of their console (pending queue, polls) is views/webinarconsole.js.
import { useEffect, useState } from "preact/hooks";
import { html, safeHtml } from "../html.js";
import { state } from "../state.js";
import {
  answerPoll, answers, ask, boardFor, countsOf, editQuestion, loadBoard, moderate, moderates, pollsOf,
  questionsOf, setVote, votesOf, withdrawQuestion,
} from "../subjects/board.js";
import { errorMessage, t } from "../subjects/language.js";
import { GuestBadge } from "./badge.js";
import { registerWebinarPanel } from "./webinar.js";

export const MAX_QUESTION = 500;
const OPEN = new Set(["pending", "open", "answering"]);
const closed = (webinar) => webinar.state === "ended" || webinar.state === "cancelled";

// The text in the reader's language, else the other one.
export const inLang = (text) => text?.[state.lang] || text?.[state.lang === "zh" ? "en" : "zh"] || "";

// A refusal, said in place: why, and when asking works again.
export function refusal(err, webinar) {
  if (err.code === "question_too_soon") return t("board.too_soon", { n: err.retryAfter ?? 10 });
  if (err.code === "too_many_open_questions") return t("board.too_many");
  if (err.status === 409 && closed(webinar)) return t(`board.closed.${webinar.state}`);
  return t("error.generic", { message: errorMessage(err) });
}

function Counter({ id, length }) {
  const left = MAX_QUESTION - length;
  return html`<span class=${left < 0 ? "counter error" : "counter muted"} id=${id} aria-live="polite">${
    t("board.chars_left", { n: left })}</span>`;
}

function AskForm({ webinar, room }) {
  const [body, setBody] = useState("");
  const [anonymous, setAnonymous] = useState(false);
  const [error, setError] = useState("");
  const [sent, setSent] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    if (!body.trim() || busy) return;
    setBusy(true);
    try {
      const question = await ask(room, body.trim(), anonymous);
      setBody(""); // the text is kept when refused
      setError("");
      setSent(t(question.state === "pending" ? "board.sent_pending" : "board.sent"));
    } catch (err) {
      setSent("");
      setError(refusal(err, webinar));
    } finally {
      setBusy(false);
    }
  }
  return html`<form class="ask" onSubmit=${submit}>
    <label for="ask-body">${t("board.ask_label")}</label>
    <textarea id="ask-body" rows="3" value=${body} maxlength=${MAX_QUESTION} aria-describedby="ask-count"
      aria-invalid=${error ? "true" : undefined} onInput=${(e) => { setBody(e.target.value); setSent(""); }}></textarea>
    <div class="ask-row">
      <${Counter} id="ask-count" length=${body.length} />
      <label class="check"><input type="checkbox" checked=${anonymous} onChange=${(e) => setAnonymous(e.target.checked)} />
        ${t("board.anonymous")}</label>
      <button type="submit" disabled=${busy || !body.trim()}>${t("board.ask")}</button>
    </div>
    ${webinar.premoderated && html`<p class="muted">${t("board.premoderated")}</p>`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${sent && html`<p role="status" class="muted">${sent}</p>`}
  </form>`;
}

function Tags({ question }) {
  return html`<span class="question-tags">
    ${question.pinned && html`<span class="tag pinned">${t("board.pinned")}</span>`}
    ${question.state === "pending" && html`<span class="tag waiting">${t("board.waiting")}</span>`}
    ${question.state === "answering" && html`<span class="tag answering">${t("board.answering")}</span>`}
    ${question.state === "answered" && html`<span class="tag resolved">${t("board.answered")}</span>`}
    ${question.state === "dismissed" && html`<span class="tag">${t("board.dismissed")}</span>`}
  </span>`;
}

// Who asked: a name, or "anonymous" (hosts also see who it was).
function Asker({ question, mine }) {
  const by = question.author?.name;
  const hidden = question.anonymous && question.asked_by ? question.asked_by.name : null;
  return html`<span class="asker">${mine ? t("board.you") : by || t("board.anonymous_asker")}${
    hidden && !mine ? html` <span class="muted">(${t("board.asked_by", { name: hidden })})</span>` : null}${
    !mine && (question.author || question.asked_by)?.guest ? html` <${GuestBadge} person=${question.author || question.asked_by} />` : null}</span>`;
}

function VoteButton({ board, room, question, mine, webinar }) {
  const [error, setError] = useState("");
  const count = votesOf(board, question.id);
  const label = t("board.votes", { count });
  if (question.state === "pending") return null;
  if (mine || !["open", "answering"].includes(question.state) || closed(webinar)) {
    return html`<span class="votes"><span aria-hidden="true">▲ <span class="count">${count}</span></span><span class="visually-hidden">${label}</span></span>`;
  }
  const on = board.myVotes.has(question.id);
  async function toggle() {
    try {
      await setVote(room, question.id, !on);
      setError("");
    } catch (err) {
      setError(refusal(err, webinar));
    }
  }
  return html`<span class="vote-wrap"><button type="button" class=${on ? "vote on" : "vote"} aria-pressed=${on ? "true" : "false"}
    aria-label=${t("board.upvote", { count })} onClick=${toggle}><span aria-hidden="true">▲ </span><span class="count">${count}</span></button>
    ${error && html`<span role="alert" class="error">${error}</span>`}</span>`;
}

// Editing one's own question in place.
function EditForm({ room, question, webinar, onDone }) {
  const [body, setBody] = useState(question.body);
  const [error, setError] = useState("");
  const id = `edit-${question.id}`;
  async function submit(event) {
    event.preventDefault();
    try {
      await editQuestion(room, question.id, body.trim());
      onDone();
    } catch (err) {
      setError(refusal(err, webinar));
    }
  }
  return html`<form class="edit-question" onSubmit=${submit}>
    <label for=${id}>${t("board.edit_label")}</label>
    <textarea id=${id} rows="3" maxlength=${MAX_QUESTION} value=${body} aria-describedby=${`${id}-count`}
      onInput=${(e) => setBody(e.target.value)}></textarea>
    <${Counter} id=${`${id}-count`} length=${body.length} />
    <div class="buttons"><button type="submit" disabled=${!body.trim()}>${t("board.save")}</button>
      <button type="button" class="link" onClick=${onDone}>${t("board.cancel")}</button></div>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </form>`;
}

// The written answer a host or panelist may give when marking it answered.
function AnswerForm({ room, question, onDone, setError }) {
  const [text, setText] = useState(question.answer?.body || "");
  const id = `answer-${question.id}`;
  async function submit(event) {
    event.preventDefault();
    try {
      await moderate(room, question.id, "answered", text.trim() ? text.trim() : undefined);
      onDone();
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  return html`<form class="answer-form" onSubmit=${submit}>
    <label for=${id}>${t("board.answer_label")}</label>
    <textarea id=${id} rows="3" maxlength="5000" value=${text} onInput=${(e) => setText(e.target.value)}></textarea>
    <div class="buttons"><button type="submit">${t("board.mark_answered")}</button>
      <button type="button" class="link" onClick=${onDone}>${t("board.cancel")}</button></div>
  </form>`;
}

// What a host (or, for answering/answered, a panelist) may do with a question in its state.
export function ModerationButtons({ board, room, question }) {
  const [error, setError] = useState("");
  const [answering, setAnswering] = useState(false);
  const host = moderates(board);
  const act = (action) => moderate(room, question.id, action).then(() => setError(""))
    .catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  const s = question.state;
  const button = (action, label, cls = "") => html`<button type="button" class=${cls}
    aria-label=${`${t(label)}: ${question.body.slice(0, 60)}`} onClick=${() => act(action)}>${t(label)}</button>`;
  return html`<div class="moderation" role="group" aria-label=${t("board.moderate")}>
    ${host && s === "pending" && button("approve", "board.approve")}
    ${host && ["open", "answering"].includes(s) && button(question.pinned ? "unpin" : "pin", question.pinned ? "board.unpin" : "board.pin", "link")}
    ${s === "open" && button("answering", "board.answer_now")}
    ${["open", "answering", "answered"].includes(s) && !answering && html`<button type="button" class="link"
      aria-label=${`${t(s === "answered" ? "board.edit_answer" : "board.mark_answered")}: ${question.body.slice(0, 60)}`}
      onClick=${() => setAnswering(true)}>${t(s === "answered" ? "board.edit_answer" : "board.mark_answered")}</button>`}
    ${host && ["pending", "open", "answering"].includes(s) && button("dismiss", "board.dismiss", "link")}
    ${host && ["answered", "dismissed"].includes(s) && button("reopen", "board.reopen", "link")}
    ${answering && html`<${AnswerForm} room=${room} question=${question} setError=${setError} onDone=${() => setAnswering(false)} />`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </div>`;
}

export function QuestionItem({ board, room, question, webinar }) {
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState("");
  const mine = board.mine.has(question.id);
  const classes = ["question", `state-${question.state}`, question.pinned ? "is-pinned" : ""].join(" ");
  const withdraw = () => withdrawQuestion(room, question.id).then(() => setError("")).catch((err) => setError(refusal(err, webinar)));
  return html`<li class=${classes} data-id=${question.id} data-state=${question.state}>
    <div class="question-head"><${Asker} question=${question} mine=${mine} /> <${Tags} question=${question} /></div>
    ${editing ? html`<${EditForm} room=${room} question=${question} webinar=${webinar} onDone=${() => setEditing(false)} />`
      : html`<p class="question-body">${question.body}</p>`}
    ${question.answer?.html && html`<div class="question-answer"><span class="muted">${
      t("board.answer_by", { name: question.answer.by?.name || "" })}</span>
      <div class="body" dangerouslySetInnerHTML=${safeHtml(question.answer.html)} /></div>`}
    <div class="question-foot">
      <${VoteButton} board=${board} room=${room} question=${question} mine=${mine} webinar=${webinar} />
      ${mine && OPEN.has(question.state) && !editing && !closed(webinar) && html`
        <button type="button" class="link" onClick=${() => setEditing(true)}>${t("board.edit")}</button>
        <button type="button" class="link" onClick=${withdraw}>${t("board.withdraw")}</button>`}
    </div>
    ${answers(board) && !closed(webinar) && html`<${ModerationButtons} board=${board} room=${room} question=${question} />`}
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </li>`;
}

// Per option: its count and share (of all choices made), with a bar.
export function PollResults({ poll, counts, big = false }) {
  const total = counts.counts.reduce((a, b) => a + b, 0);
  return html`<ul class=${big ? "poll-results big" : "poll-results"}>${poll.options.map((option, i) => {
    const n = counts.counts[i] ?? 0;
    const share = total ? Math.round((n * 100) / total) : 0;
    return html`<li data-option=${i}><span class="option-text">${inLang(option)}</span>
      <span class="option-count">${t("poll.count", { count: n, pct: share })}</span>
      <span class="bar" aria-hidden="true"><span style=${{ width: `${share}%` }}></span></span></li>`;
  })}</ul>`;
}

function PollCard({ board, room, poll, webinar }) {
  const mineNow = board.myAnswers.get(poll.id) || [];
  const [choices, setChoices] = useState(mineNow);
  const [error, setError] = useState("");
  const [saved, setSaved] = useState(false);
  useEffect(() => setChoices(board.myAnswers.get(poll.id) || []), [poll.id, (board.myAnswers.get(poll.id) || []).join(",")]);
  const counts = countsOf(board, poll.id);
  const open = poll.state === "open" && !closed(webinar);
  const name = `poll-${poll.id}`;
  const pick = (i, on) => setChoices(poll.multiple ? (on ? [...choices, i].sort((a, b) => a - b) : choices.filter((c) => c !== i)) : [i]);
  async function submit(event) {
    event.preventDefault();
    try {
      await answerPoll(room, poll.id, choices);
      setError("");
      setSaved(true);
    } catch (err) {
      setError(t("error.generic", { message: errorMessage(err) }));
    }
  }
  const showResults = counts && (poll.results_public || moderates(board));
  return html`<article class="poll" data-id=${poll.id} data-state=${poll.state} aria-labelledby=${`${name}-q`}>
    <h4 id=${`${name}-q`}>${inLang(poll.question)} <span class="tag">${t(`poll.state.${poll.state}`)}</span></h4>
    ${open && html`<form onSubmit=${submit}><fieldset><legend class="visually-hidden">${inLang(poll.question)}</legend>
      <p class="muted">${t(poll.multiple ? "poll.pick_many" : "poll.pick_one")}</p>
      ${poll.options.map((option, i) => html`<label class="check option"><input type=${poll.multiple ? "checkbox" : "radio"}
        name=${name} checked=${choices.includes(i)} onChange=${(e) => { pick(i, e.target.checked); setSaved(false); }} /> ${inLang(option)}</label>`)}
      </fieldset>
      <button type="submit" disabled=${!choices.length}>${t(mineNow.length ? "poll.change" : "poll.answer")}</button>
      ${saved && html`<span role="status" class="muted"> ${t("poll.saved")}</span>`}
      ${error && html`<p role="alert" class="error">${error}</p>`}
    </form>`}
    ${!open && mineNow.length > 0 && html`<p class="muted">${t("poll.your_answer", { choices: mineNow.map((i) => inLang(poll.options[i])).join(", ") })}</p>`}
    ${showResults ? html`<${PollResults} poll=${poll} counts=${counts} />`
      : poll.state === "closed" && html`<p class="muted">${t("poll.results_hidden")}</p>`}
  </article>`;
}

function Board({ webinar, room }) {
  const [sort, setSort] = useState("votes");
  const [error, setError] = useState("");
  useEffect(() => {
    loadBoard(room).then(() => setError("")).catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [room]);
  const board = boardFor(room);
  if (!board?.loaded) return html`<section class="board" aria-labelledby="board-title"><h3 id="board-title">${t("board.title")}</h3>
    ${error && html`<p role="alert" class="error">${error}</p>`}</section>`;
  const questions = questionsOf(board, sort);
  const polls = pollsOf(board).filter((p) => p.state !== "draft");
  return html`<section class="board" aria-labelledby="board-title">
    ${polls.length > 0 && html`<div class="polls" aria-labelledby="polls-title"><h3 id="polls-title">${t("poll.title")}</h3>
      ${polls.map((poll) => html`<${PollCard} key=${poll.id} board=${board} room=${room} poll=${poll} webinar=${webinar} />`)}</div>`}
    <h3 id="board-title">${t("board.title")}</h3>
    ${!closed(webinar) ? html`<${AskForm} webinar=${webinar} room=${room} />`
      : html`<p class="muted">${t(`board.closed.${webinar.state}`)}</p>`}
    <div class="sort" role="group" aria-label=${t("board.sort")}>
      ${["votes", "time"].map((s) => html`<button type="button" class="link" aria-pressed=${sort === s ? "true" : "false"}
        onClick=${() => setSort(s)}>${t(`board.sort.${s}`)}</button>`)}
    </div>
    ${questions.length ? html`<ul class="questions" aria-label=${t("board.list")}>${questions.map((q) =>
      html`<${QuestionItem} key=${q.id} board=${board} room=${room} question=${q} webinar=${webinar} />`)}</ul>`
      : html`<p class="muted">${t("board.none")}</p>`}
    <p class="presenter-link"><a href=${`#/webinar/${room}/present`}>${t("presenter.open")}</a></p>
    ${error && html`<p role="alert" class="error">${error}</p>`}
  </section>`;
}

registerWebinarPanel({ name: "board", component: Board });
