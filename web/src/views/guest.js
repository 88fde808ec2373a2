// Joining a webinar as a guest (docs/protocol.md, "Guests (webinars)"): a webinar's link opened
// while signed out offers it beside the login form. Whether the webinar takes guests is known
// only by asking (its details are for signed-in people): a webinar that takes none answers as
// one that does not exist, and the form says so in place.
import { useState } from "preact/hooks";
import { html } from "../html.js";
import { errorMessage, t } from "../subjects/language.js";
import { joinAsGuest, signedIn } from "../subjects/session.js";

// The webinar a signed-out visitor's link names (its page or its presenter view), or null.
export function linkedWebinar(hash) {
  return /^#\/webinar\/(webinar-[0-9a-f]{16})(?:\/present)?$/.exec(hash || "")?.[1] || null;
}

export function GuestJoin({ webinar }) {
  const [name, setName] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      const user = await joinAsGuest(webinar, name.trim());
      setError("");
      await signedIn(user);
    } catch (err) {
      if (err.status === 404) setError(t("guest.not_allowed"));
      else if (err.status === 409) setError(t("guest.closed"));
      else setError(t("error.generic", { message: errorMessage(err) }));
      event.target.querySelector("input")?.focus();
    } finally {
      setBusy(false);
    }
  }
  return html`<section class="guest-join" aria-labelledby="guest-join-title">
    <h2 id="guest-join-title">${t("guest.join_title")}</h2>
    <p>${t("guest.join_text")}</p>
    <form onSubmit=${submit}>
      <label>${t("guest.name")}<input name="guest_name" required maxlength="64" autocomplete="nickname" value=${name}
        aria-invalid=${error ? "true" : undefined} aria-describedby=${error ? "guest-error" : undefined}
        onInput=${(e) => setName(e.target.value)} /></label>
      ${error && html`<p role="alert" class="error" id="guest-error">${error}</p>`}
      <button type="submit" disabled=${busy}>${t("guest.join")}</button>
    </form>
    <h2 class="guest-or">${t("guest.or_login")}</h2>
  </section>`;
}
