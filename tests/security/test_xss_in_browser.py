"""Every payload of tests/security/xss_payloads.py, stored everywhere a person can type text, shown
on every page that renders it in a real Chromium: nothing runs.

The browser context bypasses the Content-Security-Policy on purpose: CSP is the second wall (its
header is tested in test_headers_cookies_csrf.py); here the first wall, escaping and sanitising,
must hold alone. A payload that executes calls ``__xss(n)``, which logs to the console from any
frame; dialogs are watched too. The control at the start proves the detector fires in this very
context, so the test can fail.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from flask import url_for
from sqlalchemy import select

from cairn.auth import actions as auth
from cairn.auth.models import User
from cairn.curation import actions as curation
from cairn.curation.models import Promotion
from cairn.extensions import db
from cairn.kb import actions as kb, flags as kb_flags
from cairn.stream import actions as stream, moderation
from tests.browser.conftest import PASSWORD, World, world  # noqa: F401  (fixtures; `browser` is tests/conftest.py's)
from tests.security.xss_payloads import MARK, PAYLOADS, batches

DETECTOR = """
window.__xss_hits = [];
window.MARK = function (n) {
  console.log("XSS EXECUTED " + n);
  try { window.top.__xss_hits.push(String(n)); } catch (e) {}
};
""".replace("MARK", MARK)

# what a payload may leave behind after escaping: inert text or a harmless link
SAFE_PROTOCOLS = {"http:", "https:", "mailto:", ""}


class Watcher:
    """A logged-in page that records anything a payload could do if it ran."""

    def __init__(self, browser, world: World, email: str) -> None:  # noqa: F811
        self.world = world
        self.context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(10_000)
        self.context.add_init_script(DETECTOR)
        self.page = self.context.new_page()
        self.fired: list[str] = []
        self.page.on("console", lambda msg: msg.text.startswith("XSS EXECUTED") and self.fired.append(
            f"{msg.text} on {self.page.url}"))
        self.page.on("dialog", self._dialog)
        self.page.goto(world.url + "/login")
        self.page.get_by_label("E-mail").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(lambda url: "/login" not in url)

    def _dialog(self, dialog) -> None:
        self.fired.append(f"a {dialog.type} dialog {dialog.message!r} on {self.page.url}")
        dialog.dismiss()

    def visit(self, path: str, must_show: str | None = None) -> None:
        resp = self.page.goto(self.world.url + path)
        assert resp is not None and resp.status == 200, (path, resp and resp.status)
        if must_show:
            assert must_show in self.page.locator("main").inner_text(), f"{path} does not show {must_show!r}"
        self.provoke()
        self.fired.extend(f"{hit} (on {path})" for hit in self.page.evaluate("window.__xss_hits"))

    def provoke(self) -> None:
        """Do what a reader would: hover, focus and move over everything, follow odd links."""
        odd = self.page.evaluate("""() => {
            const odd = [];
            for (const el of document.querySelectorAll('main *, nav *')) {
              for (const type of ['mouseover', 'mouseenter', 'focus', 'animationstart', 'toggle'])
                el.dispatchEvent(new Event(type));
            }
            for (const a of document.querySelectorAll('a[href], area[href]')) {
              if (!SAFE.includes(a.protocol)) { odd.push(a.outerHTML); a.click(); }
            }
            // markup that escaped escaping: any inline handler anywhere (Cairn writes none, CSP
            // would block them), and active elements inside rendered user text
            for (const el of document.querySelectorAll('*')) {
              for (const attr of el.attributes)
                if (/^on/i.test(attr.name)) odd.push(el.outerHTML.slice(0, 200));
            }
            const text = '.post-body, .prose, .snippet, .draft-preview, [data-preview], .error-message';
            const active = 'script, iframe, frame, object, embed, form, base, meta, link, style, svg, math, template';
            for (const el of document.querySelectorAll(`:is(${text}) :is(${active})`)) odd.push(el.outerHTML.slice(0, 200));
            for (const f of document.querySelectorAll('form[action]')) {
              const action = f.getAttribute('action') || '';
              if (/^\\s*(javascript|data|vbscript):/i.test(action)) odd.push(f.outerHTML);
            }
            return odd;
        }""".replace("SAFE", json.dumps(sorted(SAFE_PROTOCOLS))))
        self.fired.extend(f"markup a payload made on {self.page.url}: {html[:200]}" for html in odd)
        links = self.page.locator("main .post-body a, main .article-body a, main a.hashtag")
        for i in range(min(links.count(), 3)):
            links.nth(i).hover(force=True)  # a sticky bar may cover it: the mouse goes there anyway
        self.page.wait_for_timeout(50)  # let error events of broken images arrive


def _seed(world: World) -> dict:  # noqa: F811
    """Payloads as posts, replies, article titles, bodies and tags, display names and a channel
    topic; an edit (for the diff), a promotion of a payload thread and mentions (notifications)."""
    with world.app.app_context():
        def user(key):
            return db.session.scalars(select(User).where(User.email == world.emails[key])).one()

        admin, curator, member, other = (user(k) for k in ("admin", "curator", "member", "other"))
        short = [p for p in PAYLOADS if len(p) <= 78]
        auth.update_user(admin, other.id, display_name=short[9])    # "><img ...> style breakouts
        auth.update_user(admin, member.id, display_name=short[0])
        auth.update_user(admin, curator.id, display_name=short[20])
        channel = world.ids["engineering"]
        stream.update_channel(admin, channel, topic=" ".join(PAYLOADS[56:62]))
        roots = []
        for batch in batches(15):
            root = stream.create_post(other, channel, "@milo " + "\n\n".join(batch))
            stream.create_post(member, channel, "\n\n".join(reversed(batch)), parent_id=root.id)
            roots.append(root.id)
        handbook = world.ids["handbook"]
        articles = []
        for i, batch in enumerate(batches(25)):
            article = kb.create_article(curator, handbook, " ".join(batch)[:200], "\n\n".join(batch),
                                        tags=[p.replace(" ", "") for p in batch[:6]])
            kb.edit_article(curator, article.id, 1, title=batch[-1][:200],
                            body="\n\n".join(batch[::-1]) + f"\n\n{MARK} edit {i}", tags=batch[6:9])
            kb.transition_article(curator, article.id, "in_review")
            kb.transition_article(curator, article.id, "published")
            articles.append(article.id)
        # the short texts people type around the content: space, flags, moderation, review notes
        kb.create_space(curator, short[30], " ".join(PAYLOADS[30:40]))
        kb_flags.flag_article(member, articles[0], "wrong", " ".join(PAYLOADS[:12])[:1000])
        moderation.flag_post(member, roots[1], " ".join(PAYLOADS[12:20])[:500])
        hidden = stream.create_post(member, channel, "hidden: " + " ".join(PAYLOADS[28:36]))
        moderation.hide_post(curator, hidden.id, " ".join(PAYLOADS[20:28])[:500])   # its author sees why
        kb.edit_article(curator, articles[1], 2, body="noted", note=" ".join(PAYLOADS[60:70])[:500])
        promotion = curation.request_promotion(curator, [roots[0]])
        if db.session.get(Promotion, promotion.id).status == "queued":
            curation.run_promotion(promotion.id)
        ids = {"roots": roots, "articles": articles, "promotion": promotion.id, "channel": channel}
        db.session.remove()
        return ids


def test_no_payload_runs_on_any_page_that_renders_it(browser, world):  # noqa: F811
    ids = _seed(world)
    milo = Watcher(browser, world, world.emails["member"])

    # The control: the detector fires in this context on an app page for raw, unsanitised markup.
    milo.visit(f"/articles/{ids['articles'][0]}")
    milo.page.evaluate("html => document.querySelector('main').insertAdjacentHTML('beforeend', html)",
                       f"<img src=x onerror={MARK}('control')>")
    milo.page.wait_for_function("window.__xss_hits.length > 0")
    assert milo.page.evaluate("window.__xss_hits") == ["control"]
    assert any("XSS EXECUTED control" in hit for hit in milo.fired)
    milo.provoke()  # and the markup scan sees the handler attribute
    assert any("markup a payload made" in hit and "onerror" in hit for hit in milo.fired), milo.fired
    milo.fired.clear()

    pages = [f"/channels/{ids['channel']}", "/notifications", "/saved", "/spaces", f"/spaces/{world.ids['handbook']}"]
    for root in ids["roots"]:
        pages.append(f"/posts/{root}")
    for article in ids["articles"]:
        pages += [f"/articles/{article}", f"/articles/{article}/revisions/1", f"/articles/{article}/diff?from=1&to=2"]
    first = ids["articles"][0]
    pages += [f"/articles/{first}/revisions/2", f"/articles/{first}/diff?from=1&to=2&view=side",
              f"/articles/{first}/edit"]
    queries = [MARK, "onerror", "javascript", "script alert", '"><img', *PAYLOADS[3::16]]
    pages += [f"/search?q={quote(q)}" for q in queries]
    pages += [f"/search?q={quote(MARK)}&kind=article", f"/search?q={quote(MARK)}&kind=post"]
    for path in pages:
        milo.visit(path)
    milo.visit(f"/search?q={quote(MARK)}", must_show=f"onerror={MARK}")  # results with snippets are there

    # The composer: the mention menu lists display names, the preview renders a payload post.
    milo.visit(f"/channels/{ids['channel']}")
    composer = milo.page.get_by_label("Message", exact=True)
    composer.fill("@ol")
    milo.page.locator(".mention-menu li").first.wait_for()
    composer.fill("\n\n".join(PAYLOADS[:20]))
    milo.page.get_by_role("button", name="Preview").click()
    milo.page.locator("[data-preview]").wait_for()
    milo.provoke()

    # Live updates: a payload post arriving on the open channel page is inserted without running.
    with world.app.app_context():
        other = db.session.scalars(select(User).where(User.email == world.emails["other"])).one()
        stream.create_post(other, ids["channel"], "live " + "\n\n".join(PAYLOADS[40:60]))
        db.session.remove()
    milo.page.locator("article.post", has_text="live").last.wait_for(timeout=15_000)
    milo.provoke()
    milo.fired.extend(milo.page.evaluate("window.__xss_hits"))

    # The search box suggests titles made of payloads while one types.
    milo.page.locator("#global-search").fill("templ")
    milo.page.locator(".suggest-list li").first.wait_for()
    milo.provoke()
    milo.fired.extend(milo.page.evaluate("window.__xss_hits"))

    ada = Watcher(browser, world, world.emails["admin"])  # an admin moderates and curates too
    with world.app.test_request_context():
        progress = url_for("curation.promotion_progress", promotion_id=ids["promotion"])  # promotion.js swaps it in
    for path in (f"/promotions/{ids['promotion']}", progress, f"/promotions/new?thread={ids['roots'][1]}", "/promotions", "/flags", "/moderation", "/admin/audit",
                 "/candidates", "/content-gaps", f"/channels/{ids['channel']}"):
        ada.visit(path)
    fired = milo.fired + ada.fired
    for watcher in (milo, ada):
        watcher.context.close()
    assert not fired, f"{len(fired)} payloads ran:\n" + "\n".join(dict.fromkeys(fired))
