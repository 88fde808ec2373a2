// Account settings (#/account): one page of sections, each its own module that registers itself
// here (email and verification, password, sessions, two-factor sign-in, email notifications,
// deleting the account …). A section is { id, order, component }: drawn in `order`, each in its
// own <section aria-labelledby> with a heading, so the page reads as a list of landmarks.
import { html } from "../html.js";
import { registerView } from "../views.js";
import { errorMessage, t } from "../subjects/language.js";

const sections = [];

// `component` gets no props; it draws its own <h3 id=`account-${id}-title`> heading.
// What a section says when the password (and code) asked to confirm a change is refused.
export function identityProblem(err) {
  if (err.code === "unauthorized") return t("security.wrong");
  if (err.code === "second_factor_required") return t("security.code_needed");
  return t("recovery.failed", { message: errorMessage(err) });
}

export function registerAccountSection({ id, order, component }) {
  sections.push({ id, order, component });
  sections.sort((a, b) => a.order - b.order);
}

function Account() {
  return html`<section class="account-page" aria-labelledby="account-title">
    <h2 id="account-title">${t("account.title")}</h2>
    ${sections.map(({ id, component: Section }) => html`<section class=${`account-section account-${id}`}
        aria-labelledby=${`account-${id}-title`} key=${id}><${Section} /></section>`)}
  </section>`;
}

registerView({ name: "account", pattern: "/account", component: Account });
