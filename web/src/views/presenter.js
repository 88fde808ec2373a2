// The presenter view (#/webinar/<id>/present), for sharing a screen: the question being answered
// now and the latest open poll (or the latest whose results are public) with its results, in
// large type, high contrast, nothing else around it (main.js draws it without the shell). Live
// like the page: the same board (subjects/board.js), kept current by the room's events and
// the `board` frames.
import { useEffect, useState } from "preact/hooks";
import { html } from "../html.js";
import { registerView } from "../views.js";
import { answeringOf, boardFor, countsOf, loadBoard, presentedPoll } from "../subjects/board.js";
import { errorMessage, t } from "../subjects/language.js";
import { openWebinar, webinarOf, webinarTitle } from "../subjects/webinars.js";
import { inLang, PollResults } from "./webinarboard.js";

function Presenter({ id }) {
  const [error, setError] = useState("");
  useEffect(() => {
    openWebinar(id).then(() => loadBoard(id)).then(() => setError(""))
      .catch((err) => setError(t("error.generic", { message: errorMessage(err) })));
  }, [id]);
  const webinar = webinarOf(id);
  const board = boardFor(id);
  const question = board && answeringOf(board);
  const poll = board && presentedPoll(board);
  const counts = poll && countsOf(board, poll.id);
  return html`<div class="presenter">
    <h1 id="presenter-title">${webinar ? webinarTitle(webinar) : t("webinar.title")}</h1>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    <section class="presented-question" aria-labelledby="presenter-q" aria-live="polite">
      <h2 id="presenter-q">${t("presenter.answering")}</h2>
      ${question ? html`<p class="big">${question.body}</p>
        <p class="asker">${question.author?.name || t("board.anonymous_asker")}</p>`
        : html`<p class="quiet">${t("presenter.none")}</p>`}
    </section>
    ${poll && html`<section class="presented-poll" aria-labelledby="presenter-p">
      <h2 id="presenter-p">${inLang(poll.question)} <span class="tag">${t(`poll.state.${poll.state}`)}</span></h2>
      ${counts && poll.results_public ? html`<${PollResults} poll=${poll} counts=${counts} big=${true} />`
        : html`<ul class="poll-options big">${poll.options.map((o) => html`<li>${inLang(o)}</li>`)}</ul>`}
    </section>`}
  </div>`;
}

registerView({ name: "presenter", pattern: "/webinar/:id/present", component: Presenter, bare: true });
