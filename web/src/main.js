// The app shell: header (connection state, language, log out), sidebar (rooms with unread
// counts, views), the routed view, and the live region that announces new messages.
import { render } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { html } from "./html.js";
import { resolve } from "./views.js";
import { LANGUAGES } from "./i18n.js";
import { state, subscribe } from "./state.js";
import "./dispatch.js"; // the socket's frames go to the subjects/ modules from the start
import { prepareProof } from "./subjects/challenge.js";
import { closeRoom } from "./subjects/current.js";
import { errorMessage, setLanguage, t } from "./subjects/language.js";
import { isMuted, roomTitle, unreadTotal } from "./subjects/rooms.js";
import { keepMailLanguage } from "./subjects/mail.js";
import { boot, logout, register, signedIn, signIn } from "./subjects/session.js";
import { registerWorker } from "./offline.js";
import { usePhone } from "./views/phone.js";
import "./views/room.js";
import "./views/directory.js";
import "./views/news.js";
import "./views/profile.js";
import "./views/account.js";
import "./views/mailprefs.js";
import { TwoFactorNotice } from "./views/twofactor.js";
import "./views/deleteaccount.js";
import "./views/accountemail.js";
import "./views/accountpassword.js";
import "./views/accountsessions.js";
import { ForgotPassword, MailedLinkPage } from "./views/recovery.js";
import { VerifyBanner } from "./views/verifybanner.js";
import { mailedLink } from "./subjects/account.js";
import "./views/notifications.js";
import { ConnectionBadge } from "./views/connection.js";
import "./views/webinars.js";
import "./views/projects.js";
import "./views/project.js";
import "./views/webinar.js";
import "./views/webinarboard.js";
import "./views/webinarconsole.js";
import "./views/presenter.js";
import "./views/admin.js";
import { ModerationNotice } from "./views/moderation.js";
import "./views/library.js";
import "./views/document.js";
import { SearchBox, useSearchShortcut } from "./views/search.js";
import { GuestJoin, linkedWebinar } from "./views/guest.js";
import { Privacy } from "./views/privacy.js";
import { Welcome } from "./views/welcome.js";
import { MarkAllRead, MarkRoomRead } from "./views/attention.js";
import { ProfileCard } from "./views/people.js";
import { GuestBadge } from "./views/badge.js";
import { focusComposer, Shortcuts } from "./views/shortcuts.js";

function useStore() {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const unsubscribe = subscribe(() => setVersion((v) => v + 1));
    // A change made before this effect ran (boot() failing at once, offline) told no one: look again.
    setVersion((v) => v + 1);
    return unsubscribe;
  }, []);
}

function useHash() {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

function LanguageSwitch() {
  return html`<div class="lang field">
    <label for="lang-switch">${t("lang.label")}</label>
    <select id="lang-switch" value=${state.lang} onChange=${(e) => setLanguage(e.target.value)}>
      ${Object.entries(LANGUAGES).map(([code, name]) => html`<option value=${code} lang=${code === "zh" ? "zh-Hans" : "en"}>${name}</option>`)}
    </select>
  </div>`;
}

function Auth({ hash }) {
  const guestOf = linkedWebinar(hash);
  const [mode, setMode] = useState("login");
  const [error, setError] = useState("");
  const [invalid, setInvalid] = useState({}); // field -> the server's problem (422 details)
  // The sign-in's second step: the credentials that were right, waiting for the app's code.
  const [pending, setPending] = useState(null);
  const [checking, setChecking] = useState(false); // waiting for the registration's proof
  // The registration challenge is solved in a worker while the member fills in the form.
  useEffect(() => { if (mode === "register") prepareProof(); }, [mode]);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = pending ? { ...pending, code: form.get("code") }
      : { email: form.get("email"), password: form.get("password") };
    if (mode === "register") body.display_name = form.get("display_name");
    try {
      setChecking(mode === "register");
      const user = await (mode === "register" ? register(body) : signIn(body));
      setChecking(false);
      setError("");
      await signedIn(user);
      keepMailLanguage().catch(() => {});
    } catch (err) {
      setChecking(false);
      if (err.code === "second_factor_required") {
        setPending(body);
        setError("");
        return;
      }
      if (pending) {
        setError(err.code === "unauthorized" ? t("auth.code_wrong") : t("auth.failed", { message: errorMessage(err) }));
        event.target.querySelector('[name="code"]')?.select();
        return;
      }
      const details = err.details && typeof err.details === "object" ? err.details : {};
      setInvalid(details);
      setError(t("auth.failed", { message: errorMessage(err) }));
      // The first field named takes the focus; the alert (its description) says what to change.
      const first = ["display_name", "email", "password"].find((key) => details[key]);
      if (first) event.target.querySelector(`[name="${first}"]`)?.focus();
    }
  }
  // A field the server named points at the alert that says why (aria-describedby).
  const marked = (key) => invalid[key] ? { "aria-invalid": "true", "aria-describedby": "auth-error" } : {};
  if (mode === "forgot") {
    return html`<main class="auth" id="main">
      <h1>${t("app.title")}</h1>
      <${LanguageSwitch} />
      <${ForgotPassword} onBack=${() => setMode("login")} />
    </main>`;
  }
  return html`<main class="auth" id="main">
    <h1>${t("app.title")}</h1>
    <p>${t("auth.welcome")}</p>
    <${LanguageSwitch} />
    ${guestOf && html`<${GuestJoin} webinar=${guestOf} />`}
    ${pending ? html`<form onSubmit=${submit} aria-label=${t("auth.second_step")} class="second-step">
      <p id="auth-code-help">${t("auth.code_help")}</p>
      <label>${t("twofactor.code")}<input name="code" required maxlength="32" autocomplete="one-time-code"
        inputmode="text" spellcheck=${false} autofocus aria-describedby="auth-code-help" /></label>
      ${error && html`<p role="alert" class="error" id="auth-error">${error}</p>`}
      <button type="submit">${t("auth.login")}</button>
      <button type="button" class="link" onClick=${() => { setPending(null); setError(""); }}>${t("auth.code_back")}</button>
    </form>` : html`<form onSubmit=${submit} aria-label=${t(mode === "register" ? "auth.register" : "auth.login")}>
      ${mode === "register" && html`<label>${t("auth.name")}<input name="display_name" required maxlength="64" autocomplete="nickname" ...${marked("display_name")} /></label>`}
      <label>${t("auth.email")}<input name="email" type="email" required autocomplete="email" ...${marked("email")} /></label>
      <label>${t("auth.password")}<input name="password" type="password" required minlength="8" autocomplete=${mode === "register" ? "new-password" : "current-password"} ...${marked("password")} /></label>
      ${error && html`<p role="alert" class="error" id="auth-error">${error}</p>`}
      <p role="status" class="hint">${checking ? t("auth.checking") : ""}</p>
      <button type="submit" disabled=${checking}>${t(mode === "register" ? "auth.register" : "auth.login")}</button>
    </form>`}
    ${!pending && mode === "login" && html`<button type="button" class="link" onClick=${() => { setMode("forgot"); setError(""); setInvalid({}); }}>${t("auth.forgot")}</button>`}
    ${!pending && html`<button type="button" class="link" onClick=${() => { setMode(mode === "login" ? "register" : "login"); setError(""); setInvalid({}); }}>
      ${t(mode === "login" ? "auth.need_account" : "auth.have_account")}
    </button>`}
    <p><a href="#/privacy">${t("privacy.title")}</a></p>
  </main>`;
}

function RoomLink({ room, current }) {
  const title = roomTitle(room);
  const muted = isMuted(room.id);
  return html`<li class=${muted ? "muted-room" : undefined}>
    <a href=${`#/room/${room.id}`} aria-current=${current === room.id ? "page" : undefined}>
      <span class="name">${title}</span>
      ${muted && html`<span class="muted-mark">${t("attention.muted")}</span>`}
      ${room.unread > 0 && html`<span class=${muted ? "badge quiet" : "badge"} aria-label=${t("nav.unread", { count: room.unread })}>${room.unread}</span>`}
    </a>
    ${room.unread > 0 && current !== room.id && html`<${MarkRoomRead} room=${room.id} title=${title} />`}
  </li>`;
}

function Sidebar({ hash, children }) {
  const groups = [["nav.sectors", "sector"], ["nav.cities", "city"], ["nav.direct", "direct"]];
  return html`<nav class="sidebar" id="sidebar" aria-label=${t("nav.main")}>
    <ul class="views">
      <li><a href="#/notifications" aria-current=${hash === "#/notifications" ? "page" : undefined}>
        <span class="name">${t("nav.notifications")}</span>
        ${state.notifications.unread > 0 && html`<span class="badge" aria-label=${t("nav.unread", { count: state.notifications.unread })}>${state.notifications.unread}</span>`}
      </a></li>
      <li><a href="#/news" aria-current=${hash === "#/news" ? "page" : undefined}>${t("nav.news")}</a></li>
      <li><a href="#/webinars" aria-current=${hash === "#/webinars" || hash.startsWith("#/webinar/") ? "page" : undefined}>${t("nav.webinars")}</a></li>
      <li><a href="#/projects" aria-current=${hash === "#/projects" || hash.startsWith("#/projects/") ? "page" : undefined}>${t("nav.projects")}</a></li>
      <li><a href="#/library" aria-current=${hash === "#/library" || hash.startsWith("#/library/") ? "page" : undefined}>${t("nav.library")}</a></li>
      <li><a href="#/directory" aria-current=${hash === "#/directory" ? "page" : undefined}>${t("nav.directory")}</a></li>
      <li><a href="#/profile" aria-current=${hash === "#/profile" ? "page" : undefined}>${t("nav.profile")}</a></li>
      <li><a href="#/account" aria-current=${hash === "#/account" ? "page" : undefined}>${t("nav.account")}</a></li>
      <li><a href="#/privacy" aria-current=${hash === "#/privacy" ? "page" : undefined}>${t("privacy.title")}</a></li>
      ${["moderator", "admin"].includes(state.user.role) && html`<li><a href="#/moderation" aria-current=${hash.startsWith("#/moderation") ? "page" : undefined}>${t("nav.moderation")}</a></li>`}
      ${state.user.role === "admin" && html`<li><a href="#/admin" aria-current=${hash === "#/admin" ? "page" : undefined}>${t("nav.admin")}</a></li>`}
    </ul>
    <${MarkAllRead} />
    ${groups.map(([label, kind]) => {
      const rooms = state.rooms.filter((r) => r.kind === kind);
      if (!rooms.length) return null;
      return html`<section aria-labelledby=${`nav-${kind}`}>
        <h2 id=${`nav-${kind}`}>${t(label)}</h2>
        <ul>${rooms.map((room) => html`<${RoomLink} room=${room} current=${state.current} />`)}</ul>
      </section>`;
    })}
    ${children}
  </nav>`;
}

// On a phone the sidebar is a drawer behind the header's menu button, with the language switch
// and log-out in it; following a link in it (the hash changes) or Escape closes it.
function Drawer({ hash }) {
  const [open, setOpen] = useState(false);
  const button = useRef(null);
  const drawer = useRef(null);
  useEffect(() => setOpen(false), [hash]);
  // A layout effect: Escape works from the moment the drawer is drawn.
  useLayoutEffect(() => {
    if (!open) return undefined;
    drawer.current?.querySelector("a, button, select")?.focus();
    const onKeyDown = (event) => {
      if (event.key !== "Escape") return;
      setOpen(false);
      button.current?.focus();
    };
    document.addEventListener("keydown", onKeyDown);
    return () => document.removeEventListener("keydown", onKeyDown);
  }, [open]);
  return html`
    <button type="button" class="menu" ref=${button} aria-expanded=${open ? "true" : "false"} aria-controls="sidebar"
      onClick=${() => setOpen(!open)}><span aria-hidden="true">☰ </span>${t("nav.menu")}${state.rooms.some((r) => r.unread > 0) || state.notifications.unread > 0
        ? html`<span class="dot" aria-hidden="true"></span><span class="visually-hidden">${t("nav.menu_unread")}</span>` : null}</button>
    ${open && html`<div class="drawer" ref=${drawer}>
      <div class="scrim" aria-hidden="true" onClick=${() => setOpen(false)}></div>
      <${Sidebar} hash=${hash}>
        <div class="account">
          <${LanguageSwitch} />
          <span class="me">${state.user.name}</span>
          <button type="button" onClick=${logout}>${t("auth.logout")}</button>
        </div>
      <//>
    </div>`}`;
}

// A webinar's guest sees their webinar's page (or its presenter view) and nothing else: no
// sidebar, rooms, directory or notifications; their name carries the guest badge.
function GuestShell({ hash }) {
  const own = state.user.webinar;
  const present = hash === `#/webinar/${own}/present`;
  const route = resolve(present ? hash : `#/webinar/${own}`);
  const View = route.view.component;
  if (present) return html`<main id="main" class="bare" tabindex="-1"><${View} ...${route.params} /></main>`;
  return html`<div class="shell guest">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); focusComposer() || document.getElementById("main")?.focus(); }}>${t("app.skip")}</a>
    <header class="top">
      <h1>${t("app.title")}</h1>
      <${ConnectionBadge} />
      <${LanguageSwitch} />
      <span class="me">${state.user.name} <${GuestBadge} person=${state.user} /></span>
      <button type="button" onClick=${logout}>${t("auth.logout")}</button>
    </header>
    <main id="main" tabindex="-1"><${View} ...${route.params} /></main>
    <div class="visually-hidden" aria-live="polite" id="announcer">${state.announce}</div>
  </div>`;
}

function App() {
  useStore();
  const hash = useHash();
  const phone = usePhone();
  useSearchShortcut();
  useEffect(() => { // the unread count of rooms not muted leads the tab's title: "(3) EcoLink chat"
    const unread = state.user ? unreadTotal() : 0;
    document.title = unread > 0 ? `(${unread > 999 ? "999+" : unread}) ${t("app.title")}` : t("app.title");
  });
  if (!state.booted) return null;
  const link = mailedLink(hash); // a mailed link's page, signed in or out
  if (link) return html`<main class="auth" id="main"><h1>${t("app.title")}</h1><${LanguageSwitch} /><${MailedLinkPage} link=${link} /></main>`;
  if (!state.user) return hash === "#/privacy" ? html`<main class="auth" id="main"><h1>${t("app.title")}</h1><${Privacy} /></main>` : html`<${Auth} hash=${hash} />`;
  if (state.user.guest) return html`<${GuestShell} hash=${hash} />`;
  const route = resolve(hash || "#/room/" + (state.rooms[0]?.id || "urban-renewal"));
  const View = route?.view.component;
  if (!["room", "webinar", "presenter"].includes(route?.view.name)) closeRoom(); // (a webinar's chat is a room)
  if (route?.view.bare) {
    return html`<main id="main" class="bare" tabindex="-1"><${View} ...${route.params} /></main>`;
  }
  if (phone) {
    return html`<div class="shell phone">
      <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById("main")?.focus(); }}>${t("app.skip")}</a>
      <header class="top">
        <${Drawer} hash=${hash} />
        <h1>${t("app.title")}</h1>
        <${SearchBox} />
        <${ConnectionBadge} />
      </header>
      <main id="main" tabindex="-1">
        <${ModerationNotice} />
        <${VerifyBanner} />
        <${Welcome} />
        <${TwoFactorNotice} />
      ${View ? html`<${View} ...${route.params} />` : html`<p>${t("notfound")}</p>`}
      </main>
      <div class="visually-hidden" aria-live="polite" id="announcer">${state.announce}</div>
      <${ProfileCard} />
      <${Shortcuts} />
    </div>`;
  }
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); focusComposer() || document.getElementById("main")?.focus(); }}>${t("app.skip")}</a>
    <header class="top">
      <h1>${t("app.title")}</h1>
      <${SearchBox} />
      <${ConnectionBadge} />
      <${LanguageSwitch} />
      <span class="me">${state.user.name}</span>
      <button type="button" onClick=${logout}>${t("auth.logout")}</button>
    </header>
    <${Sidebar} hash=${hash} />
    <main id="main" tabindex="-1">
      <${ModerationNotice} />
      <${VerifyBanner} />
      <${Welcome} />
      <${TwoFactorNotice} />
      ${View ? html`<${View} ...${route.params} />` : html`<p>${t("notfound")}</p>`}
    </main>
    <div class="visually-hidden" aria-live="polite" id="announcer">${state.announce}</div>
    <${ProfileCard} />
    <${Shortcuts} />
  </div>`;
}

render(html`<${App} />`, document.getElementById("app"));
boot();
registerWorker();
