"""Cross-site scripting (docs/reliability.md, section 13): every payload of
tests/support/xss_corpus.py (OWASP filter evasion, Markdown link and image tricks, SVG,
data:/javascript:/vbscript: URLs, bidi, attribute breakouts) put in every place the web client
shows member text, rendered in Chromium with the page's real Content-Security-Policy: no script
runs.

Four oracles, checked after each place: the page's `xss()` (which the payloads call) was never
called, no dialog opened (alert/confirm/prompt), no `securitypolicyviolation` fired (an injected
handler or script that reached the DOM would be blocked by the CSP, and reported), and the DOM
holds no element or attribute that could run script (on* attributes, javascript:/vbscript:/
data: URLs, <script>, <iframe>, <svg> …), so the result does not lean on the CSP alone.

One node, one browser page, many payloads per view (messages arrive live in batches the list
keeps in its DOM); the HTML exports of the room and the webinar, and a digest mail (no CSP at
all), are opened as pages of the same browser. English runs every place; then the language is
switched and the page reloaded for a short pass in Chinese (the room from history, the
directory, news)."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from chat.accounts.service import display_name_problem
from chat.mail.digests import TOP, digest_letter
from chat.mail.letters import render as render_letter
from chat.models import DigestRoom, DigestThread, User
from chat.text import is_clean
from tests.browser.helpers import Member
from tests.e2e.test_library import propose
from tests.e2e.test_projects import create as create_project
from tests.e2e.test_webinars import draft as webinar_draft
from tests.support.client import call, moderator
from tests.support.nodes import NodeServer, running_nodes
from tests.support.timing import timeout
from tests.support.xss_corpus import PAYLOADS, packed

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOM = "urban-renewal"
BATCH = 190  # messages per live batch: fewer than the list's live window (LIVE_DOM, 200)
MENTION_EVERY = 3  # every third message mentions the viewer: more than a page of notifications

# Installed in the page (main world) once it is loaded: what payloads call, and the CSP's reports.
GUARD = """() => {
  window.__hits = [];
  window.__csp = [];
  window.xss = (n) => window.__hits.push(String(n));
  document.addEventListener('securitypolicyviolation',
    (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`), true);
}"""

# Everything in the document that could run script or navigate to script, whatever the CSP.
AUDIT = """(root) => {
  const found = [];
  const FORBIDDEN = new Set(['script', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
    'base', 'meta', 'link', 'style', 'form', 'svg', 'math', 'portal', 'template', 'noscript',
    'img', 'video', 'audio', 'source', 'input', 'textarea', 'select', 'button', 'details', 'marquee']);
  const APP_TAGS = new Set(['input', 'textarea', 'select', 'button', 'details', 'img', 'form']);
  const URL_ATTRS = ['href', 'src', 'xlink:href', 'action', 'formaction', 'data', 'background',
    'poster', 'lowsrc', 'dynsrc', 'srcdoc', 'srcset'];
  const BAD_SCHEME = /^(javascript|vbscript|livescript|data):/i;
  const squeeze = (v) => v.replace(/[\\u0000-\\u0020\\u007f-\\u00a0\\u00ad\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff]/g, '');
  // Member text is drawn inside these: the sanitised HTML of bodies and the rest as text.
  const USER_HTML = '.body, .topic-body, blockquote, .webinar-description, .note-excerpt, .snippet, article > div';
  for (const el of document.querySelector(root).querySelectorAll('*')) {
    const tag = el.localName;
    const inUser = el.closest(USER_HTML) !== null && !el.matches(USER_HTML);
    if (FORBIDDEN.has(tag) && (inUser || !APP_TAGS.has(tag))) found.push(`<${tag}> ${el.outerHTML.slice(0, 160)}`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${name} on <${tag}>: ${el.outerHTML.slice(0, 160)}`);
      if (URL_ATTRS.includes(name) && BAD_SCHEME.test(squeeze(attr.value))
          && !(tag === 'img' && /^data:image\\/(png|jpeg|gif|webp);/i.test(attr.value)))
        found.push(`${name}=${attr.value.slice(0, 80)} on <${tag}>`);
      if (name === 'style' && /url\\(|expression|behavior|animation|transition/i.test(attr.value))
        found.push(`style=${attr.value.slice(0, 80)} on <${tag}>`);
    }
    if (tag === 'a' && el.hasAttribute('target') && !/noopener/.test(el.getAttribute('rel') || ''))
      found.push(`a target without noopener: ${el.outerHTML.slice(0, 160)}`);
  }
  return found;
}"""

STATE = "() => ({hits: window.__hits, csp: window.__csp})"


def one_line(text: str) -> bool:
    return is_clean(text)


def multiline(text: str) -> bool:
    return is_clean(text, multiline=True)


# What the protocol lets into a message (chat/protocol/frames.py refuses control characters and
# unpaired surrogates before anything is stored); the rest is refused at the door.
SENDABLE = [p for p in PAYLOADS if multiline(p.text)]


class Watch:
    """The page's hits, dialogs and CSP reports, and the DOM audit, checked at each place."""

    def __init__(self, page: Page, root: str = "#app") -> None:
        self.page, self.root = page, root
        self.dialogs: list[str] = []
        self.places: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        asyncio.ensure_future(dialog.dismiss())

    async def install(self) -> None:
        await self.page.evaluate(GUARD)

    async def check(self, place: str, *, shown: bool = True) -> None:
        """Nothing ran or could run; with `shown`, payloads are on screen (as text)."""
        self.places.append(place)
        await self.page.wait_for_timeout(100)  # an onerror/onload fires after the image fails
        state = await self.page.evaluate(STATE)
        audit = await self.page.evaluate(AUDIT, self.root)
        assert state["hits"] == [] and not self.dialogs, (place, state["hits"], self.dialogs)
        assert state["csp"] == [], (place, state["csp"][:10])
        assert audit == [], (place, audit[:10])
        if shown:
            shown_in = "main" if self.root == "#app" else self.root
            text = await self.page.inner_text(shown_in)
            assert "xss(" in text, f"no payload is shown in {place}"

    async def settled(self, place: str) -> None:
        """The last check of a page: the 100 ms in check() suits the usual handler, but one
        that fires late would be blamed on the next place or, at the last, missed. So wait
        until the network is idle, every image has loaded or failed, and a second more."""
        await self.page.wait_for_load_state("networkidle")
        await self.page.evaluate("""() => Promise.all([...document.images].filter((img) => !img.complete)
          .map((img) => new Promise((resolve) => { img.addEventListener('load', resolve);
                                                    img.addEventListener('error', resolve); })))""")
        await self.page.wait_for_timeout(1000)
        await self.check(place, shown=False)

    async def proves(self) -> None:
        """The oracles can fail: a handler planted in the page is blocked (a CSP report), found
        by the audit, and a call of xss() is recorded; then the page is as it was."""
        # In <body>, outside the app's root, which Preact may redraw at any moment.
        await self.page.evaluate("""async () => {
          const img = document.createElement('img');
          img.id = 'xss-canary';
          img.setAttribute('onerror', 'xss(-1)');
          document.body.append(img);
          img.src = 'about:invalid';
          // The image fails, its handler is refused: the report comes (within 5 s on a busy machine).
          for (let i = 0; i < 100 && !window.__csp.length; i++) await new Promise((resolve) => setTimeout(resolve, 50));
          window.xss(-2);
        }""")
        state = await self.page.evaluate(STATE)
        audit = await self.page.evaluate(AUDIT, "body")
        assert state["hits"] == ["-2"] and state["csp"] and any("onerror" in line for line in audit), (state, audit)
        await self.page.evaluate("""() => {
          document.getElementById('xss-canary').remove();
          window.__hits.length = 0;
          window.__csp.length = 0;
        }""")


async def poster(node: NodeServer, n: int, name: str, role: str = "member") -> User:
    """An account without a password (nobody logs in as it): the store's own row, no hashing."""
    now = node.node.clock.now_ms()
    return await node.node.store.create_user(f"poster{n}@example.test", name, "!", role, now)


def valid_name(text: str) -> bool:
    return display_name_problem(text.strip(), "member") is None


async def named_posters(node: NodeServer) -> list[User]:
    """Members whose display names, organisations, cities and bios are payloads (many to a
    field): each name and field one that the rules of registration and the profile service
    accept (the names are checked here by the registration's own rule, the other fields by the
    profile service), i.e. what a member can really save."""
    names = packed(64, one_line=True, keep=valid_name)
    orgs = packed(128, one_line=True, keep=one_line)
    bios = packed(1000, keep=multiline)

    async def make(n: int, name: str) -> User:
        user = await poster(node, n, name)
        if n < len(orgs):
            await node.node.profiles.update(user, {
                "organisation": orgs[n], "bio": bios[n % len(bios)], "city": name})
        return user

    return list(await asyncio.gather(*(make(n, name) for n, name in enumerate(names))))


async def seen_seq(page: Page, seq: int) -> None:
    await expect(page.locator(f'.messages .msg[data-seq="{seq}"]')).to_have_count(1, timeout=timeout(15) * 1000)


@pytest.fixture
async def node(production):
    async with running_nodes(production()) as [node]:
        yield node


def body_or_title(n: int, title: str) -> str:
    """The nth packed Markdown body while there is one, then `title`: every body is rendered
    once, not again for each object that takes one (Markdown is the costly part of seeding)."""
    return BODIES[n] if n < len(BODIES) else title


async def seed_threads(node: NodeServer, authors: list[User], staff: User) -> None:
    """Topics (titles, the first ones Markdown bodies) and news (title, summary, body) in the
    room, many payloads to each."""
    conversations = node.node.conversations
    await asyncio.gather(
        *(conversations.create_topic(authors[n % len(authors)], ROOM, title, body_or_title(n, title), [], None)
          for n, title in enumerate(TITLES)),
        *(conversations.post_news(staff, TITLES[n % len(TITLES)], TITLES[(n + 1) % len(TITLES)], body, [ROOM])
          for n, body in enumerate(BODIES)))


async def seed_webinar(node: NodeServer, host: dict[str, Any]) -> str:
    """A webinar whose title and description are payloads, with questions (payloads) answered
    in Markdown (the packed bodies, then the question again); returns its id."""
    made = await call(node, "POST", "/api/v1/webinars", host, json=webinar_draft(
        title={"en": TITLES[0], "zh": TITLES[1]}, description=BODIES[0]))
    assert made.status_code == 201, made.text
    webinar = made.json()["webinar"]["id"]
    host_user = User(host["user"]["id"], host["user"]["email"], "Host", "moderator", 0)
    board = node.node.board

    async def ask(n: int, question: str) -> None:
        asked, _ = await board.ask(host_user, webinar, question, False, f"q{n}")
        await board.moderate(host_user, webinar, asked.question_id, "answered", body_or_title(n, question))

    await asyncio.gather(*(ask(n, question) for n, question in enumerate(packed(500, keep=multiline))))
    return webinar


async def seed_project(node: NodeServer, host: dict[str, Any]) -> str:
    """A project whose name, description and organisations are payloads, with an update in
    Markdown per packed body; returns its id."""
    project = await create_project(node, host, name={"en": TITLES[2], "zh": TITLES[3]},
                                   description=BODIES[0], organisations=TITLES[4:8])
    for n, body in enumerate(BODIES):
        posted = await call(node, "POST", f"/api/v1/projects/{project['id']}/updates", host,
                            json={"happened_on": f"2026-01-{n + 1:02}", "body": body})
        assert posted.status_code == 201, posted.text
    return project["id"]


async def seed_library(node: NodeServer, host: dict[str, Any]) -> str:
    """A library document (a moderator's: published at once) whose titles, description and
    source are payloads."""
    doc = await propose(node, host, b"guide", title_en=TITLES[5], title_zh=TITLES[6],
                        description=BODIES[1][:2000], source=TITLES[7][:200])
    return doc["id"]


def serve(document: str):
    """A route handler answering with `document` as an HTML page."""
    return lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=document)


def digest_html(base: str) -> str:
    """A daily digest mail listing every title payload as a topic or news post (TOP to a room),
    in both languages (chat/mail/digests.py, rendered by chat/mail/letters.py), the Markdown
    bodies as paragraphs."""
    threads = [DigestThread(f"topic-{n}", "news" if n % 2 else "topic", title, n) for n, title in enumerate(TITLES)]
    rooms = [DigestRoom(f"room-{n}", TITLES[n], TITLES[-n - 1], n, tuple(threads[n:n + TOP]))
             for n in range(0, len(threads), TOP)]
    letter = digest_letter(rooms, "daily", base)
    return render_letter(dataclasses.replace(letter, paragraphs_en=letter.paragraphs_en + tuple(BODIES)), None).html


async def guarded_member(new_context, node: NodeServer, lang: str, name: str, email: str) -> tuple[Member, Watch]:
    member = await Member.open(new_context, node.url, lang)
    await member.register(name, email)
    await member.page.add_init_script(f"({GUARD})()")  # for any later load of the page
    watch = Watch(member.page)
    await watch.install()
    return member, watch


TITLES = packed(200, one_line=True, keep=one_line)
BODIES = packed(4000, separator="\n\n", keep=multiline)


async def test_no_payload_runs_in_any_place_text_is_shown(node: NodeServer, new_context) -> None:
    assert len(PAYLOADS) >= 300 and len(SENDABLE) >= 300
    # The browser signs up while the node is filled with payloads: names, profiles, threads.
    users = await named_posters(node)
    staff = await poster(node, 10_000, "Staff", "moderator")
    host = await moderator(node, "Host")
    (viewer, watch), _, webinar, project, doc = await asyncio.gather(
        guarded_member(new_context, node, "en", "Viewer", "viewer@example.eu"),
        seed_threads(node, users, staff), seed_webinar(node, host), seed_project(node, host),
        seed_library(node, host))
    viewer_id = await viewer.user_id()
    await watch.proves()
    await watch.check("seeded", shown=False)

    # Messages: one payload each, from members whose names are payloads, every third mentioning
    # the viewer (a notification with an excerpt), sent while the room (its topics listed) is open:
    # rendered live, in batches the list keeps whole in its DOM.
    await viewer.go(f"#/room/{ROOM}")
    await expect(viewer.page.locator(".messages")).to_be_visible()
    await watch.check("room with topics")
    rooms = node.node.rooms
    headings = 0
    for start in range(0, len(SENDABLE), BATCH):
        batch = SENDABLE[start:start + BATCH]
        sent = await asyncio.gather(*(rooms.send(users[(start + i) % len(users)], ROOM, f"p{p.n}", p.text,
                                                 mentions=(viewer_id,) if i % MENTION_EVERY == 0 else ())
                                      for i, p in enumerate(batch)))
        await seen_seq(viewer.page, max(m.seq for m, _ in sent))
        await watch.check(f"messages {start + 1}-{start + len(batch)}")
        headings += await viewer.page.locator(".messages .msg .body p.md-heading").count()
    # Headings ("# <img …>") are drawn as lines (web/src/html.js, safeMessageHtml).
    assert headings > 0

    for place, hash_path, shown in (
            ("news", "#/news", "main article"),
            ("directory", "#/directory", "main li >> nth=5"),
            ("notifications", "#/notifications", ".note-excerpt"),
            ("search", "#/search?q=xss", ".search-result"),
            ("webinar", f"#/webinar/{webinar}", ".webinar-description"),
            ("project", f"#/projects/{project}", ".body"),
            ("library", "#/library", "main li"),
            ("library document", f"#/library/{doc}", "main h1, main h2")):
        await viewer.go(hash_path)
        await expect(viewer.page.locator(shown).first).to_be_visible(timeout=timeout(15) * 1000)
        await watch.check(place)

    # The viewer's own profile form, its fields filled with payloads (input values).
    saved = await viewer.page.evaluate(
        """fields => fetch('/api/v1/me/profile', {method: 'PATCH', headers: {'content-type': 'application/json'},
                                                 body: JSON.stringify(fields)}).then((r) => r.status)""",
        {"organisation": packed(128, one_line=True, keep=one_line)[0], "bio": packed(1000, keep=multiline)[0]})
    assert saved == 200
    await viewer.go("#/profile")
    await expect(viewer.page.locator("#profile-bio")).to_have_value(re.compile(r"xss\("))
    await watch.check("own profile", shown=False)

    # The HTML exports of the room and of the webinar, opened in the same browser (their own
    # CSP: nothing may load), and a mail.
    page = await viewer.context.new_page()
    export_watch = Watch(page, "body")
    await page.add_init_script(f"({GUARD})()")  # in place before an export's content is parsed
    documents = {place: await viewer.page.evaluate("path => fetch(path).then((r) => r.text())", path)
                 for place, path in (("room-html-export", f"/api/v1/rooms/{ROOM}/export?format=html"),
                                     ("webinar-html-export", f"/api/v1/webinars/{webinar}/export?format=html"))}
    # A digest mail's HTML body (member titles in it), as a mail client would show it: a page
    # without any CSP, so only its escaping stands between a payload and the reader.
    documents["digest-mail"] = digest_html(node.url)
    for place, document in documents.items():
        await page.route(f"http://export.test/{place}", serve(document))
        await page.goto(f"http://export.test/{place}")
        await export_watch.check(place)
    await export_watch.settled("exports, settled")

    # A short pass in Chinese: the language switched as a member does, then the page loaded
    # again, so the room comes from its history (not live); the directory, the news.
    await page.close()
    await viewer.page.evaluate("() => import('/src/subjects/language.js').then((m) => m.setLanguage('zh'))")
    await viewer.go(f"#/room/{ROOM}")
    await viewer.page.reload()
    await viewer.connected()
    assert await viewer.page.evaluate("document.documentElement.lang") == "zh-Hans"
    await seen_seq(viewer.page, max(m.seq for m, _ in sent))
    await watch.check("zh room history")
    for place, hash_path, shown in (("zh directory", "#/directory", "main li >> nth=5"),
                                    ("zh news", "#/news", "main article")):
        await viewer.go(hash_path)
        await expect(viewer.page.locator(shown).first).to_be_visible(timeout=timeout(15) * 1000)
        await watch.check(place)
    await watch.settled("zh news, settled")
