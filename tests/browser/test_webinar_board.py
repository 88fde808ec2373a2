"""The webinar's Q&A board, polls, host console and presenter view in the web client
(docs/protocol.md, "The Q&A board and polls"), across two nodes: a host (English, desktop),
李华 (Chinese, desktop, the other node) and Bob, a guest without an account who came through
the webinar's link (English, on a phone), run a webinar end to end. Bob sees the webinar alone
(no sidebar, no rooms), with his guest badge; everyone sees him marked as a guest.
李华 asks anonymously (the host sees who); the host turns pre-moderation on, so Bob's question
waits for approval and 李华 does not see it until it is approved; asking again at once is
refused in place with the wait, the text kept; votes and unvotes give exact counts on every
page; answering now (highlighted everywhere, and on the presenter view), answered with a
written answer; a poll answered by both (Bob changes his answer), its counts live for the host
and shown to everyone once published. axe on the board, the console, the poll and the
presenter view, in English and Chinese, and the board on the phone."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.helpers import PHONE, TEXT, Member, no_axe_violations
from tests.browser.test_phone import no_horizontal_overflow, no_small_targets
from tests.support.client import call, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

TITLE_EN, TITLE_ZH = "Green roofs in Hefei", "合肥的绿色屋顶"
LI_ASKS = "绿色屋顶需要多少维护？"
BOB_ASKS = "How much water does a green roof hold?"
WAIT = 15000


def question(scope: Page | Locator, body: str) -> Locator:
    """The question whose text is `body`, in a page or a part of it."""
    return scope.locator("li.question").filter(has_text=body)


async def votes_are(members: list[Member], body: str, count: int) -> None:
    """Every page shows the question's exact count (a vote button or, on one's own, the count)."""
    for member in members:
        item = question(member.page, body)
        await expect(item.locator(".vote .count, .votes .count")).to_have_text(str(count), timeout=WAIT)


async def relanguage(member: Member, lang: str) -> None:
    """The member switches the client's language (remembered) and the page reloads."""
    await member.page.evaluate("lang => localStorage.setItem('ecolink.lang', lang)", lang)
    await member.page.reload()
    await member.connected()
    member.lang, member.text = lang, TEXT[lang]


async def open_side(member: Member) -> None:
    """On a phone the board is in the side panel, behind its button."""
    name = {"en": "Q&A and details", "zh": "问答与详情"}[member.lang]
    await member.page.get_by_role("button", name=name, exact=True).click()
    await expect(member.page.locator("#room-side .board")).to_be_visible()


async def test_a_webinar_board_end_to_end_across_nodes(two_nodes, new_context, screenshots):
    anna = await Member.open(new_context, two_nodes[0].url, "en")
    li = await Member.open(new_context, two_nodes[1].url, "zh")
    bob = await Member.open(new_context, two_nodes[0].url, "en", **PHONE)
    await anna.register("Anna Schmidt", "anna@example.eu")
    await li.register("李华", "li@example.cn")
    moderator = await register(two_nodes[0].url, "Mia")
    await two_nodes[0].node.store.set_role(moderator["user"]["id"], "moderator")
    starts = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(hours=1)
    answer = await call(two_nodes[0], "POST", "/api/v1/webinars", moderator, json={
        "title": {"en": TITLE_EN, "zh": TITLE_ZH}, "starts_at": starts.isoformat(timespec="seconds"),
        "ends_at": (starts + timedelta(hours=1)).isoformat(timespec="seconds"), "time_zone": "Europe/Berlin",
        "hosts": [await anna.user_id()], "guests_allowed": True})
    assert answer.status_code == 201, answer.text
    webinar_id = answer.json()["webinar"]["id"]
    for member in (anna, li):
        await member.go(f"#/webinar/{webinar_id}")

    # Bob, signed out, opens the webinar's link: it offers to join as a guest (an empty name is
    # refused by the form). He joins and sees the webinar alone, marked as a guest.
    await bob.go(f"#/webinar/{webinar_id}")
    join = bob.page.locator("section.guest-join")
    await expect(join.locator("#guest-join-title")).to_have_text("Join this webinar as a guest")
    await no_axe_violations(bob.page, "guest join en")
    await join.get_by_label("Your name").fill("Bob Lee")
    await join.get_by_role("button", name="Join as a guest").click()
    await bob.connected()
    await expect(bob.page.locator("#room-title")).to_have_text(TITLE_EN)
    await expect(bob.page.locator("header.top .me .tag.guest")).to_have_text("Guest")
    await expect(bob.page.locator("#sidebar, header.top .menu")).to_have_count(0)
    await expect(bob.page.get_by_role("button", name=re.compile("^Register"))).to_have_count(0)
    await open_side(bob)
    host, lp, bp = anna.page, li.page, bob.page

    # 李华 asks anonymously, before the webinar starts: on the board at once, "anonymous" to Bob,
    # and the host sees who asked. The counter counts down from 500.
    ask = lp.get_by_label("向主讲人提问")
    await ask.fill(LI_ASKS)
    await expect(lp.locator("#ask-count")).to_have_text(f"还可输入 {500 - len(LI_ASKS)} 个字符")
    await lp.get_by_label("匿名提问").check()
    await lp.get_by_role("button", name="提问", exact=True).click()
    await expect(lp.locator(".ask [role=status]")).to_have_text("你的问题已发布。")
    await expect(ask).to_have_value("")
    await expect(question(lp, LI_ASKS).locator(".asker")).to_have_text("你")
    await expect(question(bp, LI_ASKS).locator(".asker")).to_have_text("Anonymous", timeout=WAIT)
    await expect(question(host, LI_ASKS).locator(".asker")).to_have_text("Anonymous (asked by 李华)", timeout=WAIT)

    # The host turns pre-moderation on; Bob's question now waits for approval: his page says
    # so, the host's queue holds it, and 李华 does not see it.
    await host.get_by_role("button", name="Edit the webinar").click()
    await host.locator("form.webinar-form").get_by_label("Questions are checked by a host before they show").check()
    await host.locator("form.webinar-form").get_by_role("button", name="Save changes").click()
    await expect(bp.locator(".ask")).to_contain_text("A host checks each question before it shows.", timeout=WAIT)
    await bp.get_by_label("Ask the speakers a question").fill(BOB_ASKS)
    await bp.get_by_role("button", name="Ask", exact=True).click()
    await expect(bp.locator(".ask [role=status]")).to_have_text("Sent: your question is waiting for a host's approval.")
    await expect(question(bp, BOB_ASKS).locator(".tag.waiting")).to_have_text("Waiting for approval")
    queue = host.locator(".console .pending-queue")
    await expect(question(queue, BOB_ASKS).locator(".asker")).to_have_text("Bob Lee Guest", timeout=WAIT)
    await expect(host.locator(".console h4").first).to_have_text("Waiting for approval (1)")
    # Asking again at once is refused in place, with the wait; the text stays to send later.
    await bp.get_by_label("Ask the speakers a question").fill("And in winter?")
    await bp.get_by_role("button", name="Ask", exact=True).click()
    await expect(bp.locator(".ask [role=alert]")).to_contain_text(re.compile(r"You asked a moment ago: you can ask again in \d+ s\."))
    await expect(bp.get_by_label("Ask the speakers a question")).to_have_value("And in winter?")
    await expect(lp.locator("li.question")).to_have_count(1)  # only her own: Bob's is not hers to see
    await no_axe_violations(host, "console en")
    await host.locator(".console").scroll_into_view_if_needed()
    await anna.screenshot(screenshots, "webinar-console")

    # Approved: on 李华's board, no longer waiting on Bob's; the host starts the webinar.
    await queue.get_by_role("button", name=f"Approve: {BOB_ASKS}").click()
    await expect(question(lp, BOB_ASKS)).to_be_visible(timeout=WAIT)
    await expect(question(lp, BOB_ASKS).locator(".asker")).to_have_text("Bob Lee 访客")
    await expect(question(bp, BOB_ASKS).locator(".tag.waiting")).to_have_count(0, timeout=WAIT)
    await expect(host.locator(".console .pending-queue")).to_have_count(0)
    await host.get_by_role("button", name="Start the webinar").click()
    await expect(lp.locator(".webinar-head .webinar-state")).to_have_text("直播中", timeout=WAIT)
    # The guest writes in the chat like an attendee, marked as a guest there too.
    await bp.get_by_role("button", name="Back to the chat").click()
    await bob.send("Hello from Qingdao")
    await li.sees("Hello from Qingdao")
    await expect(lp.locator(".messages .msg").filter(has_text="Hello from Qingdao").locator(".tag.guest")).to_have_text("访客")
    # A guest's "@" offers the people online only (the directory is members'), and names open
    # no profile card (profiles are members'): nothing the server would refuse is asked.
    directory = []
    bp.on("request", lambda r: directory.append(r.url) if "/api/v1/members" in r.url else None)
    composer = bp.get_by_label(bob.text["compose"])
    await composer.fill("@A")
    await expect(bp.get_by_role("listbox")).to_be_visible()
    await bp.wait_for_timeout(600)  # past the directory lookup's pause (150 ms) a member's client would ask
    await composer.fill("")
    assert directory == [], directory
    await expect(bp.locator(".messages .msg button.person")).to_have_count(0)
    await open_side(bob)

    # Votes: nobody votes for their own (no button); counts exact on every page, unvote too.
    everyone = [anna, li, bob]
    await expect(question(lp, LI_ASKS).locator("button.vote")).to_have_count(0)
    await expect(question(bp, BOB_ASKS).locator("button.vote")).to_have_count(0)
    await question(lp, BOB_ASKS).locator("button.vote").click()
    await expect(question(lp, BOB_ASKS).locator("button.vote")).to_have_attribute("aria-pressed", "true")
    await question(bp, LI_ASKS).locator("button.vote").click()
    await votes_are(everyone, BOB_ASKS, 1)
    await votes_are(everyone, LI_ASKS, 1)
    await question(host, LI_ASKS).locator("button.vote").click()
    await votes_are(everyone, LI_ASKS, 2)
    await question(lp, BOB_ASKS).locator("button.vote").click()  # 李华 takes hers back
    await expect(question(lp, BOB_ASKS).locator("button.vote")).to_have_attribute("aria-pressed", "false")
    await votes_are(everyone, BOB_ASKS, 0)
    await question(lp, BOB_ASKS).locator("button.vote").click()
    await votes_are(everyone, BOB_ASKS, 1)
    await votes_are(everyone, LI_ASKS, 2)
    # By votes 李华's leads; by time (newest first) Bob's.
    await expect(lp.locator(".board li.question .question-body")).to_have_text([LI_ASKS, BOB_ASKS])
    await lp.get_by_role("button", name="最新").click()
    await expect(lp.locator(".board li.question .question-body")).to_have_text([BOB_ASKS, LI_ASKS])
    await lp.get_by_role("button", name="最多赞同").click()

    # Answering now: highlighted for everyone and on the presenter views (English and Chinese).
    await question(host, BOB_ASKS).get_by_role("button", name=f"Answering now: {BOB_ASKS}").click()
    await expect(question(lp, BOB_ASKS).locator(".tag.answering")).to_have_text("正在回答", timeout=WAIT)
    await expect(question(bp, BOB_ASKS).locator(".tag.answering")).to_have_text("Answering now", timeout=WAIT)
    presenters = {}
    for member in (anna, li):
        screen = await member.context.new_page()
        await screen.goto(f"{member.base_url}/#/webinar/{webinar_id}/present")
        await expect(screen.locator(".presented-question .big")).to_have_text(BOB_ASKS, timeout=WAIT)
        await expect(screen.locator("#app .shell, #app .sidebar, #app header.top")).to_have_count(0)  # no chrome
        presenters[member.lang] = screen
    await expect(presenters["zh"].locator("#presenter-q")).to_have_text("正在回答")
    await expect(presenters["zh"].locator("#presenter-title")).to_have_text(TITLE_ZH)

    # Answered, with a written answer: rendered on every page; the presenter's question goes.
    await question(host, BOB_ASKS).get_by_role("button", name=f"Mark answered: {BOB_ASKS}").click()
    await question(host, BOB_ASKS).get_by_label("Written answer (optional, Markdown)").fill("About **30 litres** per m²")
    await question(host, BOB_ASKS).locator(".answer-form").get_by_role("button", name="Mark answered").click()
    for page, tag in ((lp, "已回答"), (bp, "Answered"), (host, "Answered")):
        item = question(page, BOB_ASKS)
        await expect(item.locator(".tag.resolved")).to_have_text(tag, timeout=WAIT)
        await expect(item.locator(".question-answer strong")).to_have_text("30 litres")
    await expect(presenters["en"].locator(".presented-question .quiet")).to_have_text(
        "No question is being answered right now.", timeout=WAIT)

    # A poll: prepared in both languages, opened; both attendees answer (Bob changes his mind);
    # the host follows the counts live, the attendees see them once published.
    await host.get_by_role("button", name="New poll").click()
    form = host.locator("form.poll-form")
    await form.get_by_label("Poll question (English)").fill("Would you build one?")
    await form.get_by_label("Poll question (Chinese)").fill("你会建一个吗？")
    for i, (en, zh) in enumerate((("Yes", "会"), ("No", "不会"))):
        await form.get_by_label(f"Option {i + 1} (English)").fill(en)
        await form.get_by_label(f"Option {i + 1} (Chinese)").fill(zh)
    await form.get_by_role("button", name="Add an option").click()
    await form.get_by_label("Option 3 (English)").fill("Maybe")
    await form.get_by_label("Option 3 (Chinese)").fill("也许")
    await no_axe_violations(host, "poll form en")
    await form.get_by_role("button", name="Save the poll").click()
    await host.get_by_role("button", name="Open the poll: Would you build one?").click()
    poll_li = lp.locator("article.poll")
    await expect(poll_li.locator("h4")).to_contain_text("你会建一个吗？", timeout=WAIT)
    await poll_li.get_by_label("会", exact=True).check()
    await poll_li.get_by_role("button", name="提交我的选择").click()
    await expect(poll_li.locator("[role=status]")).to_have_text("已保存你的选择。")
    await no_axe_violations(lp, "poll zh")
    poll_bob = bp.locator("article.poll")
    await expect(poll_bob.locator("h4")).to_contain_text("Would you build one?", timeout=WAIT)
    await poll_bob.get_by_label("No", exact=True).check()
    await poll_bob.get_by_role("button", name="Send my answer").click()
    await expect(poll_bob.get_by_role("button", name="Change my answer")).to_be_visible()
    await poll_bob.get_by_label("Maybe", exact=True).check()
    await poll_bob.get_by_role("button", name="Change my answer").click()
    control = host.locator(".poll-control")
    await expect(control.locator(".option-count")).to_have_text(
        ["1 vote (50%)", "0 votes (0%)", "1 vote (50%)"], timeout=WAIT)
    await expect(poll_li.locator(".poll-results")).to_have_count(0)  # not public yet
    await host.get_by_role("button", name="Publish the results: Would you build one?").click()
    await expect(poll_li.locator(".option-count")).to_have_text(["1 票（50%）", "0 票（0%）", "1 票（50%）"], timeout=WAIT)
    await expect(poll_bob.locator(".option-count")).to_have_text(["1 vote (50%)", "0 votes (0%)", "1 vote (50%)"], timeout=WAIT)
    for lang, screen in presenters.items():
        await expect(screen.locator(".presented-poll .option-count")).to_have_count(3, timeout=WAIT)
        await no_axe_violations(screen, f"presenter {lang}")
        await screen.wait_for_timeout(300)
        await screen.screenshot(path=str(screenshots / f"webinar-presenter-{lang}.png"))
    await host.get_by_role("button", name="Close the poll: Would you build one?").click()
    await expect(poll_li.locator("h4 .tag")).to_have_text("已结束", timeout=WAIT)
    await expect(poll_li.locator(".option-count")).to_have_text(["1 票（50%）", "0 票（0%）", "1 票（50%）"])

    # The board in both languages, desktop and phone; the console in Chinese.
    await no_axe_violations(lp, "board zh")
    await li.screenshot(screenshots, "webinar-board")
    await no_axe_violations(bp, "board phone en")
    await no_horizontal_overflow(bp, "board phone en")
    await no_small_targets(bp, "board phone en")
    await bob.screenshot(screenshots, "webinar-board-phone")
    await no_axe_violations(host, "console en, after")
    await relanguage(li, "en")
    await expect(question(lp, BOB_ASKS).locator(".tag.resolved")).to_have_text("Answered", timeout=WAIT)
    await no_axe_violations(lp, "board en")
    await li.screenshot(screenshots, "webinar-board")
    await relanguage(bob, "zh")
    await open_side(bob)
    await expect(question(bp, LI_ASKS).locator(".asker")).to_have_text("匿名", timeout=WAIT)
    await no_axe_violations(bp, "board phone zh")
    await no_horizontal_overflow(bp, "board phone zh")
    await no_small_targets(bp, "board phone zh")
    await bob.screenshot(screenshots, "webinar-board-phone")
    await relanguage(anna, "zh")
    await expect(host.locator(".console h3")).to_have_text("主持人控制台", timeout=WAIT)
    await no_axe_violations(host, "console zh")
    await host.locator(".console").scroll_into_view_if_needed()
    await anna.screenshot(screenshots, "webinar-console")
    # (Bob's refused second question is his browser's one complaint)
    assert not anna.errors and not li.errors and [e for e in bob.errors if "429" not in e] == [], (
        anna.errors, li.errors, bob.errors)


async def test_counts_missed_while_offline_are_exact_after_reconnecting(two_nodes, new_context):
    """Votes are no log events: a `board` frame missed while offline is never replayed. Back
    online, the page rejoins (the pin is replayed) and asks for the board again, so the count
    is exact."""
    anna = await Member.open(new_context, two_nodes[0].url, "en")
    li = await Member.open(new_context, two_nodes[1].url, "zh")
    await anna.register("Anna Schmidt", "anna@example.eu")
    await li.register("李华", "li@example.cn")
    moderator = await register(two_nodes[0].url, "Mia")
    await two_nodes[0].node.store.set_role(moderator["user"]["id"], "moderator")
    carl = await register(two_nodes[0].url, "Carl")
    starts = datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(hours=1)
    answer = await call(two_nodes[0], "POST", "/api/v1/webinars", moderator, json={
        "title": {"en": TITLE_EN, "zh": TITLE_ZH}, "starts_at": starts.isoformat(timespec="seconds"),
        "ends_at": (starts + timedelta(hours=1)).isoformat(timespec="seconds"), "hosts": [await anna.user_id()]})
    assert answer.status_code == 201, answer.text
    webinar_id = answer.json()["webinar"]["id"]
    for member in (anna, li):
        await member.go(f"#/webinar/{webinar_id}")
    await li.page.get_by_label("向主讲人提问").fill(LI_ASKS)
    await li.page.get_by_role("button", name="提问", exact=True).click()
    mine = question(li.page, LI_ASKS)
    await expect(mine).to_be_visible()
    question_id = await mine.get_attribute("data-id")

    await li.context.set_offline(True)
    await expect(li.page.locator(".conn")).not_to_have_attribute("data-state", "online", timeout=WAIT)
    await question(anna.page, LI_ASKS).get_by_role("button", name=f"Pin: {LI_ASKS}").click()
    voted = await call(two_nodes[0], "PUT", f"/api/v1/webinars/{webinar_id}/questions/{question_id}/vote", carl)
    assert voted.status_code == 200 and voted.json()["votes"][0] == 1, voted.text
    await votes_are([anna], LI_ASKS, 1)
    await li.context.set_offline(False)
    await li.connected()
    await expect(mine.locator(".tag.pinned")).to_have_text("已置顶", timeout=WAIT)
    await votes_are([li], LI_ASKS, 1)
    assert not anna.errors, anna.errors
